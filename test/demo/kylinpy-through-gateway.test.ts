/**
 * A BI client exploring the demo through the gateway's pass-through, request for request as the
 * Python client kylinpy (the SQLAlchemy dialect Superset uses) does it: its headers
 * (`User-Agent: Kylin Python Client`, Basic auth, no Accept), `tables_and_columns?project=` for
 * `get_table_names`, and `tables?project=&ext=False` for the datatype of each column of
 * `get_table_columns`, parsed as its code parses them (including its type regex).
 */
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import { startNodeGateway, type NodeGateway } from '../../src/runtime/node/gateway.ts'
import { startKylinEmulator, type KylinEmulator } from '../../demo/kylin/server.ts'

let kylin: KylinEmulator
let gateway: NodeGateway

beforeAll(async () => {
  kylin = await startKylinEmulator({ port: 0, ssbScale: 0.001 })
  const config = parseConfig({
    KYLIN_UPSTREAM_URL: kylin.url,
    PORT: '0',
    HOST: '127.0.0.1',
    STORE: 'memory',
  })
  const logDestination = new Writable({ write: (_chunk, _encoding, done) => done() })
  gateway = await startNodeGateway(config, { logDestination })
})
afterAll(async () => {
  await gateway?.close()
  await kylin?.close()
})

/** kylinpy's Client: `{scheme}://{host}:{port}/kylin/api/{endpoint}?{urlencode(params)}`. */
async function kylinpyFetch(endpoint: string, params: Record<string, string | boolean>) {
  const query = new URLSearchParams(
    Object.entries(params).map(([k, v]) => [
      k,
      typeof v === 'boolean' ? (v ? 'True' : 'False') : v,
    ]),
  )
  const response = await fetch(`${gateway.url}/kylin/api/${endpoint}?${query}`, {
    headers: {
      'User-Agent': 'Kylin Python Client',
      Authorization: `Basic ${Buffer.from('ANALYST:ANALYST').toString('base64')}`,
    },
  })
  expect(response.status, endpoint).toBe(200)
  const body = (await response.json()) as unknown
  // compact_response: a v2 envelope is unwrapped, anything else taken as it is.
  const isV2 =
    typeof body === 'object' &&
    body !== null &&
    !Array.isArray(body) &&
    Object.keys(body).sort().join() === 'code,data,msg'
  return isV2 ? (body as { data: unknown }).data : body
}

interface TableMeta {
  table_SCHEM: string
  table_NAME: string
  columns: { column_NAME: string; table_SCHEM: string; table_NAME: string }[]
}
interface TableDesc {
  name: string
  database: string
  columns: { name: string; datatype: string }[]
}

/** kylinpy's `get_table_names(schema)`. */
async function getTableNames(project: string, schema?: string): Promise<string[]> {
  const tables = (await kylinpyFetch('tables_and_columns', { project })) as TableMeta[]
  return tables
    .filter((t) => schema === undefined || t.table_SCHEM === schema)
    .map((t) => t.table_NAME)
}

/** kylinpy's `get_table_columns(table)` then the dialect's `get_columns`: name and SQL type. */
async function getColumns(project: string, table: string) {
  const tables = (await kylinpyFetch('tables_and_columns', { project })) as TableMeta[]
  const columns = tables.find((t) => t.table_NAME === table)?.columns ?? []
  const descs = (await kylinpyFetch('tables', { project, ext: false })) as TableDesc[]
  return columns.map((col) => {
    const desc = descs.find((t) => t.name === col.table_NAME && t.database === col.table_SCHEM)!
    const datatype = desc.columns.find((c) => c.name === col.column_NAME)!.datatype
    return { name: col.column_NAME, type: toSqlaType(datatype) }
  })
}

/** kylinpy's `kylin_to_sqla`: the same regex, giving the type and its arguments. */
function toSqlaType(datatype: string): string {
  const types =
    'CHAR|STRING|VARCHAR|DECIMAL|DOUBLE|FLOAT|BIGINT|LONG|INTEGER|INT|TINYINT|SMALLINT|INT4|LONG8|BOOLEAN|DATE|DATETIME|TIMESTAMP'
  const match = new RegExp(`^(${types})\\(?(\\d+)?,?(\\d+)?\\)?.*$`, 'i').exec(datatype)
  if (!match) throw new Error(`kylinpy cannot read the type ${datatype}`)
  const args = match.slice(2).filter((a) => a !== undefined)
  return `${match[1]!.toUpperCase()}${args.length ? `(${args.join(',')})` : ''}`
}

describe('kylinpy through the gateway', () => {
  it('lists the learn_kylin tables of schema DEFAULT', async () => {
    expect((await getTableNames('learn_kylin', 'DEFAULT')).sort()).toEqual([
      'KYLIN_ACCOUNT',
      'KYLIN_CAL_DT',
      'KYLIN_CATEGORY_GROUPINGS',
      'KYLIN_COUNTRY',
      'KYLIN_SALES',
    ])
    expect(await getTableNames('learn_kylin', 'SSB')).toEqual([])
  })

  it('reads the columns of KYLIN_SALES with the types SQLAlchemy gets', async () => {
    expect(await getColumns('learn_kylin', 'KYLIN_SALES')).toEqual([
      { name: 'TRANS_ID', type: 'BIGINT' },
      { name: 'PART_DT', type: 'DATE' },
      { name: 'LSTG_FORMAT_NAME', type: 'VARCHAR(256)' },
      { name: 'LEAF_CATEG_ID', type: 'BIGINT' },
      { name: 'LSTG_SITE_ID', type: 'INTEGER' },
      { name: 'SLR_SEGMENT_CD', type: 'SMALLINT' },
      { name: 'PRICE', type: 'DECIMAL(19,4)' },
      { name: 'ITEM_COUNT', type: 'BIGINT' },
      { name: 'SELLER_ID', type: 'BIGINT' },
      { name: 'BUYER_ID', type: 'BIGINT' },
      { name: 'OPS_USER_ID', type: 'VARCHAR(256)' },
      { name: 'OPS_REGION', type: 'VARCHAR(256)' },
      { name: 'ITEM_ID', type: 'VARCHAR(256)' },
    ])
  })

  it('reads every column of every learn_kylin table', async () => {
    for (const table of await getTableNames('learn_kylin')) {
      const columns = await getColumns('learn_kylin', table)
      expect(columns.length, table).toBeGreaterThan(0)
    }
  })
})
