/**
 * The Star Schema Benchmark tables of Kylin 5's sample (SSB.P_LINEORDER, CUSTOMER, DATES, PART,
 * SUPPLIER), rows generated from a seed at a scale factor: 1 = 6,000,000 line orders, as dbgen.
 */
import { nth, pick, seeded, toCreateTable, type GeneratedColumn } from './generate-sql.ts'

export const SSB_SCHEMA = 'SSB'
/** 60,000 line orders, 300 customers, 20 suppliers, 2,000 parts: Kylin's own sample sizes. */
export const DEFAULT_SSB_SCALE = 0.01
/** Days from 1992-01-01, as dbgen's date table. */
const DATE_COUNT = 2556
/** Orders are dated up to 1998-08-02, as in SSB. */
const ORDER_DAYS = 2405

export interface SsbRowCounts {
  LINEORDER: number
  CUSTOMER: number
  SUPPLIER: number
  PART: number
  DATES: number
}

export function toSsbRowCounts(scale: number): SsbRowCounts {
  const atLeastOne = (n: number) => Math.max(1, Math.round(n))
  return {
    LINEORDER: atLeastOne(6_000_000 * scale),
    CUSTOMER: atLeastOne(30_000 * scale),
    SUPPLIER: atLeastOne(2_000 * scale),
    // dbgen grows parts with the logarithm of the scale from scale 1 on.
    PART: scale < 1 ? atLeastOne(200_000 * scale) : 200_000 * Math.floor(1 + Math.log2(scale)),
    DATES: DATE_COUNT,
  }
}

/** TPC-H's nations, in its order, with their regions. */
const NATIONS: readonly [string, string][] = [
  ['ALGERIA', 'AFRICA'],
  ['ARGENTINA', 'AMERICA'],
  ['BRAZIL', 'AMERICA'],
  ['CANADA', 'AMERICA'],
  ['EGYPT', 'MIDDLE EAST'],
  ['ETHIOPIA', 'AFRICA'],
  ['FRANCE', 'EUROPE'],
  ['GERMANY', 'EUROPE'],
  ['INDIA', 'ASIA'],
  ['INDONESIA', 'ASIA'],
  ['IRAN', 'MIDDLE EAST'],
  ['IRAQ', 'MIDDLE EAST'],
  ['JAPAN', 'ASIA'],
  ['JORDAN', 'MIDDLE EAST'],
  ['KENYA', 'AFRICA'],
  ['MOROCCO', 'AFRICA'],
  ['MOZAMBIQUE', 'AFRICA'],
  ['PERU', 'AMERICA'],
  ['CHINA', 'ASIA'],
  ['ROMANIA', 'EUROPE'],
  ['SAUDI ARABIA', 'MIDDLE EAST'],
  ['VIETNAM', 'ASIA'],
  ['RUSSIA', 'EUROPE'],
  ['UNITED KINGDOM', 'EUROPE'],
  ['UNITED STATES', 'AMERICA'],
]
const COLORS = [
  'almond',
  'antique',
  'aquamarine',
  'azure',
  'beige',
  'bisque',
  'black',
  'blanched',
  'blue',
  'blush',
  'brown',
  'burlywood',
  'chartreuse',
  'chiffon',
  'chocolate',
  'coral',
  'cornflower',
  'cream',
  'cyan',
  'dark',
  'deep',
  'dodger',
  'firebrick',
  'forest',
  'frosted',
  'gainsboro',
  'ghost',
  'goldenrod',
  'green',
  'grey',
  'honeydew',
  'hot',
  'indian',
  'ivory',
  'khaki',
  'lace',
  'lavender',
  'lawn',
  'lemon',
  'light',
  'lime',
  'linen',
  'magenta',
  'maroon',
  'medium',
  'metallic',
  'midnight',
  'mint',
  'misty',
  'moccasin',
  'navajo',
  'navy',
  'olive',
  'orange',
  'orchid',
  'pale',
  'papaya',
  'peach',
  'peru',
  'pink',
  'plum',
  'powder',
  'puff',
  'purple',
  'red',
  'rose',
  'rosy',
  'royal',
  'saddle',
  'salmon',
  'sandy',
  'seashell',
  'sienna',
  'sky',
  'slate',
  'smoke',
  'snow',
  'spring',
  'steel',
  'tan',
  'thistle',
  'tomato',
  'turquoise',
  'violet',
  'wheat',
  'white',
  'yellow',
]
const TYPE_SIZES = ['STANDARD', 'SMALL', 'MEDIUM', 'LARGE', 'ECONOMY', 'PROMO']
const TYPE_FINISHES = ['ANODIZED', 'BURNISHED', 'PLATED', 'POLISHED', 'BRUSHED']
const TYPE_METALS = ['TIN', 'NICKEL', 'BRASS', 'STEEL', 'COPPER']
const CONTAINER_SIZES = ['SM', 'LG', 'MED', 'JUMBO', 'WRAP']
const CONTAINER_KINDS = ['CASE', 'BOX', 'BAG', 'JAR', 'PKG', 'PACK', 'CAN', 'DRUM']
const SEGMENTS = ['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'MACHINERY', 'HOUSEHOLD']
const PRIORITIES = ['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECI', '5-LOW']
const SHIP_MODES = ['REG AIR', 'AIR', 'RAIL', 'SHIP', 'TRUCK', 'MAIL', 'FOB']

/** Columns shared by customers and suppliers, keyed by k (1-based), nation index n. */
function toPartyColumns(prefix: 'C' | 'S', label: string): GeneratedColumn[] {
  const nation = nth(
    'n',
    NATIONS.map(([name]) => name),
  )
  return [
    {
      name: `${prefix}_NAME`,
      type: 'VARCHAR',
      expr: `'${label}#' || lpad(CAST(k AS VARCHAR), 9, '0')`,
    },
    {
      name: `${prefix}_ADDRESS`,
      type: 'VARCHAR',
      expr: `substr(md5(CAST(k AS VARCHAR) || '${label}'), 1, 10 + CAST(hash(k, '${prefix}-address') % 15 AS INTEGER))`,
    },
    {
      name: `${prefix}_CITY`,
      type: 'VARCHAR',
      expr: `rpad(left(${nation}, 9), 9, ' ') || CAST(hash(k, '${prefix}-city') % 10 AS VARCHAR)`,
    },
    { name: `${prefix}_NATION`, type: 'VARCHAR', expr: nation },
    {
      name: `${prefix}_REGION`,
      type: 'VARCHAR',
      expr: nth(
        'n',
        NATIONS.map(([, region]) => region),
      ),
    },
    {
      name: `${prefix}_PHONE`,
      type: 'VARCHAR',
      expr: `CAST(n + 10 AS VARCHAR) || '-' || CAST(100 + hash(k, '${prefix}-phone1') % 900 AS VARCHAR) || '-' || CAST(100 + hash(k, '${prefix}-phone2') % 900 AS VARCHAR) || '-' || CAST(1000 + hash(k, '${prefix}-phone3') % 9000 AS VARCHAR)`,
    },
  ]
}

const CUSTOMER: GeneratedColumn[] = [
  { name: 'C_CUSTKEY', type: 'INTEGER', expr: 'k' },
  ...toPartyColumns('C', 'Customer'),
  { name: 'C_MKTSEGMENT', type: 'VARCHAR', expr: pick('k', 'segment', SEGMENTS) },
]

const SUPPLIER: GeneratedColumn[] = [
  { name: 'S_SUPPKEY', type: 'INTEGER', expr: 'k' },
  ...toPartyColumns('S', 'Supplier'),
]

/** m = manufacturer 1–5, c = category 1–5 within it, as SSB's MFGR#m, MFGR#mc, MFGR#mcb. */
const PART: GeneratedColumn[] = [
  { name: 'P_PARTKEY', type: 'INTEGER', expr: 'k' },
  {
    name: 'P_NAME',
    type: 'VARCHAR',
    expr: `${pick('k', 'name1', COLORS)} || ' ' || ${pick('k', 'name2', COLORS)}`,
  },
  { name: 'P_MFGR', type: 'VARCHAR', expr: `'MFGR#' || m` },
  { name: 'P_CATEGORY', type: 'VARCHAR', expr: `'MFGR#' || m || c` },
  { name: 'P_BRAND', type: 'VARCHAR', expr: `'MFGR#' || m || c || (hash(k, 'brand') % 40 + 1)` },
  { name: 'P_COLOR', type: 'VARCHAR', expr: pick('k', 'color', COLORS) },
  {
    name: 'P_TYPE',
    type: 'VARCHAR',
    expr: `${pick('k', 'type1', TYPE_SIZES)} || ' ' || ${pick('k', 'type2', TYPE_FINISHES)} || ' ' || ${pick('k', 'type3', TYPE_METALS)}`,
  },
  { name: 'P_SIZE', type: 'INTEGER', expr: `hash(k, 'size') % 50 + 1` },
  {
    name: 'P_CONTAINER',
    type: 'VARCHAR',
    expr: `${pick('k', 'container1', CONTAINER_SIZES)} || ' ' || ${pick('k', 'container2', CONTAINER_KINDS)}`,
  },
]

const DATES: GeneratedColumn[] = [
  { name: 'D_DATEKEY', type: 'DATE', expr: 'd' },
  { name: 'D_DATE', type: 'VARCHAR', expr: `monthname(d) || ' ' || day(d) || ', ' || year(d)` },
  { name: 'D_DAYOFWEEK', type: 'VARCHAR', expr: 'dayname(d)' },
  { name: 'D_MONTH', type: 'VARCHAR', expr: 'monthname(d)' },
  { name: 'D_YEAR', type: 'INTEGER', expr: 'year(d)' },
  { name: 'D_YEARMONTHNUM', type: 'INTEGER', expr: 'year(d) * 100 + month(d)' },
  { name: 'D_YEARMONTH', type: 'VARCHAR', expr: `strftime(d, '%b%Y')` },
  { name: 'D_DAYNUMINWEEK', type: 'INTEGER', expr: 'dayofweek(d) + 1' },
  { name: 'D_DAYNUMINMONTH', type: 'INTEGER', expr: 'day(d)' },
  { name: 'D_DAYNUMINYEAR', type: 'INTEGER', expr: 'dayofyear(d)' },
  { name: 'D_MONTHNUMINYEAR', type: 'INTEGER', expr: 'month(d)' },
  { name: 'D_WEEKNUMINYEAR', type: 'INTEGER', expr: 'week(d)' },
  {
    name: 'D_SELLINGSEASON',
    type: 'VARCHAR',
    expr: `CASE WHEN month(d) = 12 THEN 'Christmas' WHEN month(d) IN (6, 7, 8) THEN 'Summer' WHEN month(d) IN (1, 2) THEN 'Winter' WHEN month(d) IN (3, 4, 5) THEN 'Spring' ELSE 'Fall' END`,
  },
  {
    name: 'D_LASTDAYINWEEKFL',
    type: 'INTEGER',
    expr: `CASE WHEN dayofweek(d) = 6 THEN 1 ELSE 0 END`,
  },
  {
    name: 'D_LASTDAYINMONTHFL',
    type: 'INTEGER',
    expr: `CASE WHEN d = last_day(d) THEN 1 ELSE 0 END`,
  },
  {
    name: 'D_HOLIDAYFL',
    type: 'INTEGER',
    expr: `CASE WHEN strftime(d, '%m-%d') IN ('01-01', '07-04', '12-25') THEN 1 ELSE 0 END`,
  },
  {
    name: 'D_WEEKDAYFL',
    type: 'INTEGER',
    expr: `CASE WHEN dayofweek(d) BETWEEN 1 AND 5 THEN 1 ELSE 0 END`,
  },
]

/** Four lines per order: i is the line's index, o its order key; u is the part's unit price. */
function toLineorderColumns(counts: SsbRowCounts): GeneratedColumn[] {
  const quantity = `(hash(i, 'quantity') % 50 + 1)`
  const discount = `(hash(i, 'discount') % 11)`
  const orderDate = `DATE '1992-01-01' + CAST(${seeded('o', 'orderdate', ORDER_DAYS)} AS INTEGER)`
  return [
    { name: 'LO_ORDERKEY', type: 'BIGINT', expr: 'o' },
    { name: 'LO_LINENUMBER', type: 'BIGINT', expr: 'i % 4 + 1' },
    { name: 'LO_CUSTKEY', type: 'INTEGER', expr: `${seeded('o', 'custkey', counts.CUSTOMER)} + 1` },
    { name: 'LO_PARTKEY', type: 'INTEGER', expr: 'p' },
    { name: 'LO_SUPPKEY', type: 'INTEGER', expr: `${seeded('i', 'suppkey', counts.SUPPLIER)} + 1` },
    { name: 'LO_ORDERDATE', type: 'DATE', expr: orderDate },
    { name: 'LO_ORDERPRIOTITY', type: 'VARCHAR', expr: pick('o', 'priority', PRIORITIES) },
    { name: 'LO_SHIPPRIOTITY', type: 'INTEGER', expr: '0' },
    { name: 'LO_QUANTITY', type: 'BIGINT', expr: quantity },
    { name: 'LO_EXTENDEDPRICE', type: 'BIGINT', expr: `${quantity} * u` },
    {
      name: 'LO_ORDTOTALPRICE',
      type: 'BIGINT',
      expr: `${seeded('o', 'total', 50_000_000)} + 100000`,
    },
    { name: 'LO_DISCOUNT', type: 'BIGINT', expr: discount },
    { name: 'LO_REVENUE', type: 'BIGINT', expr: `${quantity} * u * (100 - ${discount}) // 100` },
    { name: 'LO_SUPPLYCOST', type: 'BIGINT', expr: 'u * 6 // 10' },
    { name: 'LO_TAX', type: 'BIGINT', expr: `hash(i, 'tax') % 9` },
    {
      name: 'LO_COMMITDATE',
      type: 'DATE',
      expr: `${orderDate} + CAST(30 + hash(i, 'commit') % 61 AS INTEGER)`,
    },
    { name: 'LO_SHIPMODE', type: 'VARCHAR', expr: pick('i', 'shipmode', SHIP_MODES) },
  ]
}

/** The statements that create and fill the SSB schema at `scale`. */
export function toSsbStatements(scale: number): string[] {
  const counts = toSsbRowCounts(scale)
  const keys = (n: number) => `FROM (SELECT range + 1 AS k FROM range(${n}))`
  const withNation = (n: number, salt: string) =>
    `FROM (SELECT k, CAST(hash(k, '${salt}') % ${NATIONS.length} AS INTEGER) AS n ${keys(n)})`
  return [
    `CREATE SCHEMA ${SSB_SCHEMA}`,
    toCreateTable(SSB_SCHEMA, 'CUSTOMER', CUSTOMER, withNation(counts.CUSTOMER, 'C-nation')),
    toCreateTable(SSB_SCHEMA, 'SUPPLIER', SUPPLIER, withNation(counts.SUPPLIER, 'S-nation')),
    toCreateTable(
      SSB_SCHEMA,
      'PART',
      PART,
      `FROM (SELECT k, hash(k, 'mfgr') % 5 + 1 AS m, hash(k, 'category') % 5 + 1 AS c ${keys(counts.PART)})`,
    ),
    toCreateTable(
      SSB_SCHEMA,
      'DATES',
      DATES,
      `FROM (SELECT DATE '1992-01-01' + CAST(range AS INTEGER) AS d FROM range(${DATE_COUNT}))`,
    ),
    toCreateTable(
      SSB_SCHEMA,
      'LINEORDER',
      toLineorderColumns(counts),
      `FROM (
  SELECT i, o, p, 90000 + (p * 7) % 20000 AS u
  FROM (SELECT range AS i, range // 4 + 1 AS o, CAST(hash(range, 'partkey') % ${counts.PART} + 1 AS INTEGER) AS p FROM range(${counts.LINEORDER}))
)`,
    ),
    `CREATE VIEW ${SSB_SCHEMA}.P_LINEORDER AS SELECT *, LO_EXTENDEDPRICE * LO_DISCOUNT AS V_REVENUE FROM ${SSB_SCHEMA}.LINEORDER`,
  ]
}
