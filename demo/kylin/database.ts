/**
 * The emulator's database: an in-memory DuckDB holding the learn_kylin and ssb samples, one
 * schema per Kylin database, locked down after loading (no files, no extensions, no settings).
 */
import { DuckDBInstance } from '@duckdb/node-api'
import { LEARN_KYLIN_SCHEMA, toLearnKylinStatements } from './sample-learn-kylin.ts'
import { DEFAULT_SSB_SCALE, SSB_SCHEMA, toSsbStatements } from './sample-ssb.ts'

/*
 * Why DuckDB (and not sql.js/SQLite): it speaks real analytical SQL close to what Kylin's
 * Calcite accepts (DATE and TIMESTAMP types and literals, exact DECIMAL arithmetic, ANSI joins,
 * GROUP BY, window functions, double-quoted identifiers); it is fast enough that a
 * multi-million-row export is a real test of the gateway rather than of the emulator; and it
 * ships as a prebuilt native binary on npm, so `npm ci` is all it takes.
 */

export interface KylinProject {
  name: string
  description: string
  /** The Kylin database (DuckDB schema) unqualified table names resolve in. */
  database: string
  /** `DATABASE.TABLE`, as Kylin lists a project's tables. */
  tables: string[]
}

export interface KylinDatabaseOptions {
  /** SSB scale factor: 1 = 6,000,000 line orders; default 0.01. */
  ssbScale?: number
}

export interface KylinDatabase {
  instance: DuckDBInstance
  projects: KylinProject[]
  /** Kylin project names are case-insensitive. */
  findProject(name: string): KylinProject | undefined
  close(): void
}

export async function openKylinDatabase(
  options: KylinDatabaseOptions = {},
): Promise<KylinDatabase> {
  const ssbScale = options.ssbScale ?? DEFAULT_SSB_SCALE
  if (!(ssbScale > 0) || !Number.isFinite(ssbScale)) {
    throw new RangeError(`The SSB scale must be a positive number, not ${ssbScale}`)
  }
  const instance = await DuckDBInstance.create(':memory:', {
    // Never fetch extensions from the network.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  })
  const connection = await instance.connect()
  try {
    for (const statement of [...toLearnKylinStatements(), ...toSsbStatements(ssbScale)]) {
      await connection.run(statement)
    }
    // Queries come from whoever can reach the port: no files, no settings changed after this.
    await connection.run('SET enable_external_access = false')
    await connection.run('SET lock_configuration = true')
    const projects = [
      {
        name: 'learn_kylin',
        description: 'The Kylin 2–4 sample: KYLIN_SALES and its lookup tables',
        database: LEARN_KYLIN_SCHEMA,
        tables: await listTables(connection, LEARN_KYLIN_SCHEMA),
      },
      {
        name: 'ssb',
        description: `The Star Schema Benchmark at scale ${ssbScale}`,
        database: SSB_SCHEMA,
        tables: await listTables(connection, SSB_SCHEMA),
      },
    ]
    return {
      instance,
      projects,
      findProject: (name) => projects.find((p) => p.name.toLowerCase() === name.toLowerCase()),
      close: () => instance.closeSync(),
    }
  } catch (error) {
    instance.closeSync()
    throw error
  } finally {
    connection.closeSync()
  }
}

async function listTables(
  connection: Awaited<ReturnType<DuckDBInstance['connect']>>,
  schema: string,
): Promise<string[]> {
  const reader = await connection.runAndReadAll(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' ORDER BY table_name`,
  )
  return reader.getRowsJS().map(([name]) => `${schema}.${String(name)}`)
}
