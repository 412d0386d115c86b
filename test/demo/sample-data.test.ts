/**
 * The sample data: learn_kylin and SSB row counts at a scale, keys that join as Kylin's models
 * join them (every fact row finds its lookups), and the same rows on every start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openKylinDatabase, type KylinDatabase } from '../../demo/kylin/database.ts'
import { LEARN_KYLIN_ROWS } from '../../demo/kylin/sample-learn-kylin.ts'
import { toSsbRowCounts } from '../../demo/kylin/sample-ssb.ts'

const SCALE = 0.002
let db: KylinDatabase

beforeAll(async () => {
  db = await openKylinDatabase({ ssbScale: SCALE })
})
afterAll(() => db.close())

async function scalar(target: KylinDatabase, sql: string): Promise<unknown> {
  const connection = await target.instance.connect()
  try {
    return (await connection.runAndReadAll(sql)).getRowsJS()[0]![0]
  } finally {
    connection.closeSync()
  }
}

describe('learn_kylin', () => {
  it('has the sample’s row counts and columns', async () => {
    for (const [table, rows] of Object.entries(LEARN_KYLIN_ROWS)) {
      expect(Number(await scalar(db, `select count(*) from "DEFAULT".${table}`)), table).toBe(rows)
    }
    for (const [table, columns] of [
      ['KYLIN_CAL_DT', 100],
      ['KYLIN_CATEGORY_GROUPINGS', 36],
    ] as const) {
      const sql = `select count(*) from information_schema.columns where table_name = '${table}'`
      expect(Number(await scalar(db, sql)), table).toBe(columns)
    }
  })

  it('joins as kylin_sales_model does: every sale finds its date, category, accounts, countries', async () => {
    const joined = await scalar(
      db,
      `select count(*) from "DEFAULT".KYLIN_SALES s
       join "DEFAULT".KYLIN_CAL_DT d on s.PART_DT = d.CAL_DT
       join "DEFAULT".KYLIN_CATEGORY_GROUPINGS g on s.LEAF_CATEG_ID = g.LEAF_CATEG_ID and s.LSTG_SITE_ID = g.SITE_ID
       join "DEFAULT".KYLIN_ACCOUNT b on s.BUYER_ID = b.ACCOUNT_ID
       join "DEFAULT".KYLIN_ACCOUNT sl on s.SELLER_ID = sl.ACCOUNT_ID
       join "DEFAULT".KYLIN_COUNTRY bc on b.ACCOUNT_COUNTRY = bc.COUNTRY
       join "DEFAULT".KYLIN_COUNTRY sc on sl.ACCOUNT_COUNTRY = sc.COUNTRY`,
    )
    expect(Number(joined)).toBe(LEARN_KYLIN_ROWS.KYLIN_SALES)
    expect(
      Number(
        await scalar(
          db,
          `select count(distinct (LEAF_CATEG_ID, SITE_ID)) from "DEFAULT".KYLIN_CATEGORY_GROUPINGS`,
        ),
      ),
    ).toBe(144)
  })
})

describe('ssb', () => {
  it('has row counts that follow the scale factor', async () => {
    const counts = toSsbRowCounts(SCALE)
    expect(counts).toMatchObject({
      LINEORDER: 12_000,
      CUSTOMER: 60,
      SUPPLIER: 4,
      PART: 400,
      DATES: 2556,
    })
    for (const [table, rows] of Object.entries(counts)) {
      expect(Number(await scalar(db, `select count(*) from SSB.${table}`)), table).toBe(rows)
    }
    expect(Number(await scalar(db, 'select count(*) from SSB.P_LINEORDER'))).toBe(counts.LINEORDER)
    expect(toSsbRowCounts(1)).toMatchObject({
      LINEORDER: 6_000_000,
      CUSTOMER: 30_000,
      PART: 200_000,
    })
    expect(toSsbRowCounts(0.01)).toMatchObject({
      LINEORDER: 60_000,
      CUSTOMER: 300,
      SUPPLIER: 20,
      PART: 2_000,
    })
  })

  it('joins every line order to its date, customer, part and supplier; V_REVENUE as Kylin 5', async () => {
    const joined = await scalar(
      db,
      `select count(*) from SSB.P_LINEORDER l
       join SSB.DATES d on l.LO_ORDERDATE = d.D_DATEKEY join SSB.CUSTOMER c on l.LO_CUSTKEY = c.C_CUSTKEY
       join SSB.PART p on l.LO_PARTKEY = p.P_PARTKEY join SSB.SUPPLIER s on l.LO_SUPPKEY = s.S_SUPPKEY
       where l.V_REVENUE = l.LO_EXTENDEDPRICE * l.LO_DISCOUNT`,
    )
    expect(Number(joined)).toBe(12_000)
  })
})

describe('generation', () => {
  it('gives the same rows on every start', async () => {
    const checksum = `select sum(hash(s)) from "DEFAULT".KYLIN_SALES s`
    const ssbChecksum = `select sum(hash(l)) from SSB.LINEORDER l`
    const other = await openKylinDatabase({ ssbScale: SCALE })
    try {
      expect(await scalar(other, checksum)).toBe(await scalar(db, checksum))
      expect(await scalar(other, ssbChecksum)).toBe(await scalar(db, ssbChecksum))
    } finally {
      other.close()
    }
  })

  it('refuses a scale that is not a positive number', async () => {
    await expect(openKylinDatabase({ ssbScale: 0 })).rejects.toThrow(/positive/)
    await expect(openKylinDatabase({ ssbScale: Number.NaN })).rejects.toThrow(/positive/)
  })
})
