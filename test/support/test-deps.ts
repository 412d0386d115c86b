/**
 * AppDeps for in-process HTTP tests: memory store and registry, a scripted KylinClient,
 * a fixed clock and ids, and a `defer` whose background work a test can wait for.
 */
import { parseConfig, type Config } from '../../src/config/config.ts'
import type { AppDeps } from '../../src/deps.ts'
import { UpstreamError } from '../../src/errors.ts'
import { createSilentLogger } from '../../src/logger.ts'
import { createMemoryRegistry } from '../../src/registry/memory.ts'
import type { UpstreamQuery } from '../../src/domain/query.ts'
import { createSha256 } from '../../src/runtime/node/gateway.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import type { Credentials, UserIdentity } from '../../src/domain/caller.ts'
import type { KylinClient } from '../../src/upstream/types.ts'

export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

export const ADMIN = basic('ADMIN', 'KYLIN')
export const ANALYST = basic('ANALYST', 'ANALYST')
export const MODELER = basic('MODELER', 'MODELER')

const USERS: Record<string, UserIdentity> = {
  [ADMIN]: { username: 'ADMIN', authorities: ['ROLE_ADMIN', 'ROLE_ANALYST'], isAdmin: true },
  [ANALYST]: { username: 'ANALYST', authorities: ['ROLE_ANALYST'], isAdmin: false },
  [MODELER]: { username: 'MODELER', authorities: ['ROLE_MODELER'], isAdmin: false },
}

export interface Column {
  name: string
  type: string
}

/** A Kylin 2.x SQLResponse body, with results before the trailing fields as Jackson writes it. */
export function toSqlResponse(
  columns: Column[],
  rows: (string | null)[][],
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    columnMetas: columns.map((c) => ({
      isNullable: 1,
      displaySize: 256,
      label: c.name,
      name: c.name,
      schemaName: null,
      catelogName: null,
      tableName: null,
      precision: 256,
      scale: 0,
      columnType: 12,
      columnTypeName: c.type,
      readOnly: true,
    })),
    results: rows,
    cube: 'CUBE[name=kylin_sales_cube]',
    affectedRowCount: 0,
    isException: false,
    exceptionMessage: null,
    duration: 12,
    partial: false,
    ...extra,
  })
}

export function toStream(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes)
      controller.close()
    },
  })
}

export type QueryHandler = (
  query: UpstreamQuery,
  credentials: Credentials,
  signal?: AbortSignal,
) => Promise<ReadableStream<Uint8Array>>

export interface TestDeps extends AppDeps {
  /** Resolves when every background task started so far has finished. */
  settle(): Promise<void>
  /** Every query the fake upstream received. */
  queries: UpstreamQuery[]
  authCalls: number
  setQueryHandler(handler: QueryHandler): void
  /** Moves the fake clock forward. */
  advance(ms: number): void
}

const SALES = [
  { name: 'LSTG_FORMAT_NAME', type: 'VARCHAR' },
  { name: 'SLR_SEGMENT_CD', type: 'SMALLINT' },
  { name: 'GMV', type: 'DECIMAL' },
]

/** The default upstream: a small learn_kylin-like answer; `fail` in the SQL gives Kylin's 500. */
const defaultHandler: QueryHandler = async (query) => {
  if (query.sql.includes('fail')) {
    throw new UpstreamError(
      "From line 1, column 15 to line 1, column 27: Object 'FAIL' not found",
      {
        upstreamStatus: 500,
      },
    )
  }
  return toStream(
    toSqlResponse(SALES, [
      ['Auction', '11', '123.45'],
      ['Others, "quoted"', null, '7'],
      ['上海', '0', '1\n2'],
    ]),
  )
}

export function makeTestDeps(overrides: Partial<Config> = {}): TestDeps {
  const tasks = new Set<Promise<void>>()
  let handler = defaultHandler
  let clock = Date.UTC(2026, 0, 2, 3, 4, 5)
  let nextId = 0
  const deps: TestDeps = {
    config: { ...parseConfig({ KYLIN_UPSTREAM_URL: 'http://kylin.test:7070' }), ...overrides },
    store: createMemoryStore({ maxBytes: 64 * 1024 * 1024 }),
    registry: createMemoryRegistry({ maxRecords: 1000 }),
    kylin: {
      async query(query, credentials, signal) {
        deps.queries.push(query)
        return handler(query, credentials, signal)
      },
      async authenticate(credentials) {
        deps.authCalls++
        return (credentials.authorization && USERS[credentials.authorization]) || null
      },
    } satisfies KylinClient,
    fetch: async () => new Response('{"passed":"through"}', { status: 200 }),
    logger: createSilentLogger(),
    defer(task) {
      const promise = task()
      tasks.add(promise)
      void promise.finally(() => tasks.delete(promise))
    },
    now: () => (clock += 1),
    createHash: createSha256,
    newId: () => `00000000-0000-4000-8000-${String(++nextId).padStart(12, '0')}`,
    async settle() {
      while (tasks.size > 0) await Promise.allSettled([...tasks])
    },
    queries: [],
    authCalls: 0,
    setQueryHandler(next) {
      handler = next
    },
    advance(ms) {
      clock += ms
    },
  }
  return deps
}
