/**
 * The emulator's POST /kylin/api/query: Kylin 2–4's SQLResponse (fields, order, strings and
 * nulls, types), table names as Kylin users write them, and Kylin's error envelopes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKylinApp } from '../../demo/kylin/app.ts'
import { openKylinDatabase, type KylinDatabase } from '../../demo/kylin/database.ts'
import { SQL_RESPONSE_FIELDS } from '../support/sql-response-fields.ts'

const ADMIN = `Basic ${Buffer.from('ADMIN:KYLIN').toString('base64')}`

let db: KylinDatabase
let app: ReturnType<typeof createKylinApp>

beforeAll(async () => {
  db = await openKylinDatabase({ ssbScale: 0.001 })
  app = createKylinApp(db)
})
afterAll(() => db.close())

interface SqlResponse {
  columnMetas: {
    label: string
    columnType: number
    columnTypeName: string
    precision: number
    scale: number
  }[]
  results: (string | null)[][]
  isException: boolean
  exceptionMessage: string | null
  duration: number
  totalScanCount: number
}

function query(body: Record<string, unknown>) {
  return app.request('/kylin/api/query', {
    method: 'POST',
    headers: { Authorization: ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
}

async function answer(sql: string, project = 'learn_kylin', extra: Record<string, unknown> = {}) {
  const response = await query({ sql, project, ...extra })
  expect(response.status, await response.clone().text()).toBe(200)
  return (await response.json()) as SqlResponse
}

describe('the SQLResponse', () => {
  it('has Kylin 2–4 fields in Jackson order, every cell a string', async () => {
    const response = await query({
      sql: 'select trans_id, price from kylin_sales order by trans_id limit 2',
      project: 'learn_kylin',
    })
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    const body = (await response.json()) as SqlResponse
    expect(Object.keys(body)).toEqual(SQL_RESPONSE_FIELDS)
    expect(body).toMatchObject({
      isException: false,
      exceptionMessage: null,
      partial: false,
      totalScanCount: 2,
    })
    expect(body.duration).toBeGreaterThanOrEqual(0)
    expect(body.results).toHaveLength(2)
    for (const row of body.results) for (const cell of row) expect(typeof cell).toBe('string')
    expect(body.results[0]![0]).toBe('0')
    expect(body.results[0]![1]).toMatch(/^\d+\.\d{4}$/)
  })

  it('sends SQL NULL as JSON null, and text with quotes, newlines and non-ASCII intact', async () => {
    const body = await answer(
      `select null as a, 'say "hi"\n' || chr(233) as b, cast(null as date) as c`,
    )
    expect(body.results).toEqual([[null, 'say "hi"\né', null]])
  })

  it('formats values as Kylin does: dates, decimals, doubles, booleans, timestamps', async () => {
    const body = await answer(
      `select date '2012-01-02', cast(1.5 as decimal(19,4)), cast(0.25 as double), true, timestamp '2012-01-02 03:04:05'`,
    )
    expect(body.results).toEqual([['2012-01-02', '1.5000', '0.25', 'true', '2012-01-02 03:04:05']])
  })

  it('describes the learn_kylin columns with java.sql.Types and Calcite names', async () => {
    const body = await answer('select * from kylin_sales limit 1')
    const byLabel = Object.fromEntries(body.columnMetas.map((m) => [m.label, m]))
    expect(Object.keys(byLabel)).toEqual([
      'TRANS_ID',
      'PART_DT',
      'LSTG_FORMAT_NAME',
      'LEAF_CATEG_ID',
      'LSTG_SITE_ID',
      'SLR_SEGMENT_CD',
      'PRICE',
      'ITEM_COUNT',
      'SELLER_ID',
      'BUYER_ID',
      'OPS_USER_ID',
      'OPS_REGION',
      'ITEM_ID',
    ])
    expect(byLabel.TRANS_ID).toMatchObject({ columnType: -5, columnTypeName: 'BIGINT' })
    expect(byLabel.PART_DT).toMatchObject({ columnType: 91, columnTypeName: 'DATE' })
    expect(byLabel.LSTG_SITE_ID).toMatchObject({ columnType: 4, columnTypeName: 'INTEGER' })
    expect(byLabel.SLR_SEGMENT_CD).toMatchObject({ columnType: 5, columnTypeName: 'SMALLINT' })
    expect(byLabel.PRICE).toMatchObject({
      columnType: 3,
      columnTypeName: 'DECIMAL',
      precision: 19,
      scale: 4,
    })
    expect(byLabel.OPS_REGION).toMatchObject({ columnType: 12, columnTypeName: 'VARCHAR' })
  })

  it('labels aggregates as Calcite: aliases upper-cased, bare expressions EXPR$n', async () => {
    const body = await answer(
      'select lstg_format_name, count(*), sum(price) as gmv from kylin_sales group by 1',
    )
    expect(body.columnMetas.map((m) => m.label)).toEqual(['LSTG_FORMAT_NAME', 'EXPR$1', 'GMV'])
    expect(body.columnMetas[1]).toMatchObject({ columnTypeName: 'BIGINT' })
    expect(body.results).toHaveLength(5)
  })

  it('applies the request limit and offset when the SQL has none, as Kylin 2–4', async () => {
    const all = await answer('select trans_id from kylin_sales order by trans_id', 'learn_kylin', {
      limit: 3,
      offset: 2,
    })
    expect(all.results).toEqual([['2'], ['3'], ['4']])
    const own = await answer(
      'select trans_id from kylin_sales order by trans_id limit 1',
      'learn_kylin',
      { limit: 3 },
    )
    expect(own.results).toEqual([['0']])
  })

  it('streams a large answer as one valid JSON document', async () => {
    const body = await answer('select * from p_lineorder', 'ssb')
    expect(body.results).toHaveLength(6000)
    expect(body.totalScanCount).toBe(6000)
    expect(body.results[5999]).toHaveLength(18)
  })
})

describe('table names', () => {
  it.each([
    ['learn_kylin', 'select count(*) from KYLIN_SALES'],
    ['learn_kylin', 'select count(*) from kylin_sales'],
    ['learn_kylin', 'select count(*) from DEFAULT.KYLIN_SALES'],
    ['LEARN_KYLIN', 'select count(*) from default.kylin_sales'],
    ['ssb', 'select count(*) from SSB.P_LINEORDER'],
    ['ssb', 'select count(*) from p_lineorder'],
  ])('%s: %s', async (project, sql) => {
    const body = await answer(sql, project)
    expect(Number(body.results[0]![0])).toBeGreaterThan(0)
  })

  it('resolve unqualified names in the project’s own database only', async () => {
    const response = await query({ sql: 'select * from p_lineorder', project: 'learn_kylin' })
    expect(response.status).toBe(500)
  })
})

describe('errors', () => {
  it('answers a SQL error with HTTP 500 and the 999 envelope, message as Kylin words it', async () => {
    const response = await query({ sql: 'select * from no_such_table', project: 'learn_kylin' })
    expect(response.status).toBe(500)
    const body = (await response.json()) as Record<string, unknown>
    expect(Object.keys(body)).toEqual(['code', 'data', 'msg', 'stacktrace', 'exception', 'url'])
    expect(body).toMatchObject({ code: '999', data: null, url: 'http://localhost/kylin/api/query' })
    expect(body.msg).toMatch(/no_such_table/)
    expect(body.msg).toMatch(/\nwhile executing SQL: "select \* from no_such_table"$/)
    expect(body.exception).toBe(body.msg)
  })

  it('refuses statements other than queries', async () => {
    for (const sql of ['drop table DEFAULT.KYLIN_SALES', 'create table t (a int)']) {
      const response = await query({ sql, project: 'learn_kylin' })
      expect(response.status).toBe(500)
      expect(await response.json()).toMatchObject({ code: '999', msg: 'Not Supported SQL.' })
    }
    expect((await answer('select count(*) from kylin_sales')).results).toEqual([['10000']])
  })

  it('reads no files', async () => {
    const response = await query({ sql: "select * from read_csv('/etc/hostname')", project: 'ssb' })
    expect(response.status).toBe(500)
    expect(await response.json()).toMatchObject({
      code: '999',
      msg: expect.stringMatching(/disabled/),
    })
  })

  it.each([
    [{ sql: 'select 1' }, 'Project name should not be empty.'],
    [{ sql: 'select 1', project: 'nope' }, "Cannot find project 'nope'."],
    [{ sql: '  ', project: 'ssb' }, 'SQL should not be empty.'],
  ])('answers a bad request %j with HTTP 400: %s', async (body, msg) => {
    const response = await query(body)
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ code: '999', data: null, msg })
  })
})
