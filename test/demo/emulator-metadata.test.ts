/**
 * The emulator's metadata calls, in the shapes of Kylin 2–4's own classes (TableMeta and
 * ColumnMeta as Jackson names their getters, TableDesc, DataModelDesc, CubeDesc, CubeInstance):
 * each learn_kylin table and column with its type, the sample model and cube, and the errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startKylinEmulator, type KylinEmulator } from '../../demo/kylin/server.ts'

const ADMIN = { Authorization: `Basic ${Buffer.from('ADMIN:KYLIN').toString('base64')}` }
let kylin: KylinEmulator

beforeAll(async () => {
  kylin = await startKylinEmulator({ port: 0, ssbScale: 0.001 })
})
afterAll(() => kylin.close())

async function getJson(path: string, headers: Record<string, string> = ADMIN) {
  const response = await fetch(`${kylin.url}${path}`, { headers })
  return { status: response.status, body: (await response.json()) as unknown }
}

type Row = Record<string, unknown> & { columns: Record<string, unknown>[] }

describe('GET /kylin/api/tables_and_columns', () => {
  it("lists learn_kylin's tables with JDBC TableMeta / ColumnMeta fields", async () => {
    const { status, body } = await getJson('/kylin/api/tables_and_columns?project=learn_kylin')
    expect(status).toBe(200)
    const tables = body as Row[]
    expect(tables.map((t) => `${t.table_SCHEM}.${t.table_NAME}`).sort()).toEqual([
      'DEFAULT.KYLIN_ACCOUNT',
      'DEFAULT.KYLIN_CAL_DT',
      'DEFAULT.KYLIN_CATEGORY_GROUPINGS',
      'DEFAULT.KYLIN_COUNTRY',
      'DEFAULT.KYLIN_SALES',
    ])
    const sales = tables.find((t) => t.table_NAME === 'KYLIN_SALES')!
    expect(Object.keys(sales).sort()).toEqual(
      [
        'table_CAT',
        'table_SCHEM',
        'table_NAME',
        'table_TYPE',
        'remarks',
        'type_CAT',
        'type_SCHEM',
        'type_NAME',
        'self_REFERENCING_COL_NAME',
        'ref_GENERATION',
        'columns',
      ].sort(),
    )
    expect(sales).toMatchObject({ table_CAT: 'defaultCatalog', table_TYPE: 'TABLE' })
    expect(sales.columns.map((c) => c.column_NAME)).toEqual([
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
    const column = (name: string) => sales.columns.find((c) => c.column_NAME === name)!
    expect(Object.keys(column('TRANS_ID'))).toHaveLength(23)
    expect(column('TRANS_ID')).toMatchObject({
      table_SCHEM: 'DEFAULT',
      table_NAME: 'KYLIN_SALES',
      data_TYPE: -5,
      type_NAME: 'BIGINT',
      ordinal_POSITION: 1,
      is_NULLABLE: 'YES',
      nullable: 1,
    })
    expect(column('PRICE')).toMatchObject({
      data_TYPE: 3,
      type_NAME: 'DECIMAL(19, 4)',
      column_SIZE: 19,
      decimal_DIGITS: 4,
      num_PREC_RADIX: 10,
    })
    expect(column('PART_DT')).toMatchObject({ data_TYPE: 91, type_NAME: 'DATE' })
    expect(column('LSTG_SITE_ID')).toMatchObject({ data_TYPE: 4, type_NAME: 'INTEGER' })
    expect(column('OPS_REGION')).toMatchObject({
      data_TYPE: 12,
      type_NAME: 'VARCHAR(256) CHARACTER SET "UTF-16LE" COLLATE "UTF-16LE$en_US$primary"',
      column_SIZE: 256,
    })
  })

  it('answers [] for no project, 400 for an unknown one, 401 without credentials', async () => {
    expect(await getJson('/kylin/api/tables_and_columns')).toEqual({ status: 200, body: [] })
    const unknown = await getJson('/kylin/api/tables_and_columns?project=nope')
    expect(unknown.status).toBe(400)
    expect(unknown.body).toMatchObject({ code: '999', msg: "Cannot find project 'nope'." })
    const anonymous = await fetch(`${kylin.url}/kylin/api/tables_and_columns?project=ssb`)
    expect(anonymous.status).toBe(401)
  })
})

describe('GET /kylin/api/tables', () => {
  it('answers TableDesc with Hive datatypes, and the extras with ext=true', async () => {
    const { status, body } = await getJson('/kylin/api/tables?project=learn_kylin&ext=False')
    expect(status).toBe(200)
    const sales = (body as Row[]).find((t) => t.name === 'KYLIN_SALES')!
    expect(sales).toMatchObject({
      database: 'DEFAULT',
      source_type: 0,
      version: expect.any(String),
    })
    expect(sales.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(sales).not.toHaveProperty('exd')
    expect(sales.columns.slice(0, 7)).toEqual([
      { id: '1', name: 'TRANS_ID', datatype: 'bigint' },
      { id: '2', name: 'PART_DT', datatype: 'date' },
      { id: '3', name: 'LSTG_FORMAT_NAME', datatype: 'varchar(256)' },
      { id: '4', name: 'LEAF_CATEG_ID', datatype: 'bigint' },
      { id: '5', name: 'LSTG_SITE_ID', datatype: 'integer' },
      { id: '6', name: 'SLR_SEGMENT_CD', datatype: 'smallint' },
      { id: '7', name: 'PRICE', datatype: 'decimal(19,4)' },
    ])
    const ext = await getJson('/kylin/api/tables?project=ssb&ext=true')
    const lineorder = (ext.body as Row[]).find((t) => t.name === 'P_LINEORDER')!
    expect(lineorder).toMatchObject({ database: 'SSB', exd: expect.any(Object) })
    expect((await getJson('/kylin/api/tables')).status).toBe(400)
  })
})

describe('models and cubes', () => {
  it("describe learn_kylin's sample model and cube", async () => {
    const models = (await getJson('/kylin/api/models?projectName=learn_kylin')).body as Row[]
    expect(models.map((m) => m.name)).toEqual(['kylin_sales_model'])
    expect(models[0]).toMatchObject({ fact_table: 'DEFAULT.KYLIN_SALES' })
    expect((models[0]!.lookups as unknown as { alias: string }[]).map((l) => l.alias)).toContain(
      'BUYER_ACCOUNT',
    )
    expect((await getJson('/kylin/api/models?projectName=ssb')).body).toEqual([])

    const cubes = (await getJson('/kylin/api/cubes?projectName=learn_kylin')).body as Row[]
    expect(cubes).toEqual([
      expect.objectContaining({
        name: 'kylin_sales_cube',
        status: 'READY',
        model: 'kylin_sales_model',
      }),
    ])
    const descs = (await getJson('/kylin/api/cube_desc/kylin_sales_cube')).body as Row[]
    expect(descs).toHaveLength(1)
    expect(descs[0]).toMatchObject({ name: 'kylin_sales_cube', model_name: 'kylin_sales_model' })
    const desc = (await getJson('/kylin/api/cube_desc/kylin_sales_cube/desc')).body as {
      dimensions: { table: string; column: string | null; derived: string[] | null }[]
      measures: { name: string }[]
      rowkey: { rowkey_columns: { column: string }[] }
    }
    expect(desc.measures.map((m) => m.name)).toContain('GMV_SUM')
    expect(desc.rowkey.rowkey_columns[0]!.column).toBe('KYLIN_SALES.PART_DT')
    // Every dimension names a table alias of the model, as clients join them back.
    const aliases = new Set([
      'KYLIN_SALES',
      ...(models[0]!.lookups as unknown as { alias: string }[]).map((l) => l.alias),
    ])
    for (const dimension of desc.dimensions) expect(aliases).toContain(dimension.table)
    const missing = await getJson('/kylin/api/cube_desc/nope')
    expect(missing.status).toBe(404)
    expect(missing.body).toMatchObject({ code: '999', msg: "Cannot find cube 'nope'." })
  })

  it('answers POST /user/authentication as GET does', async () => {
    const response = await fetch(`${kylin.url}/kylin/api/user/authentication`, {
      method: 'POST',
      headers: ADMIN,
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ userDetails: { username: 'ADMIN' } })
  })
})
