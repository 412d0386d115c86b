/**
 * The learn_kylin sample (Kylin 2–4): DEFAULT.KYLIN_SALES and its four lookup tables, with the
 * column names and types of Kylin's create_sample_tables.sql, rows generated from a seed.
 */
import {
  nth,
  pick,
  seeded,
  toCreateTable,
  toSqlString,
  type GeneratedColumn,
} from './generate-sql.ts'

export const LEARN_KYLIN_SCHEMA = 'DEFAULT'

export const LEARN_KYLIN_ROWS = {
  KYLIN_SALES: 10_000,
  KYLIN_ACCOUNT: 10_000,
  KYLIN_CAL_DT: 731,
  KYLIN_CATEGORY_GROUPINGS: 144,
} as const

/** Country code, approximate centre (latitude, longitude), name. */
const COUNTRIES: readonly [string, number, number, string][] = [
  ['AD', 42.546245, 1.601554, 'Andorra'],
  ['AE', 23.424076, 53.847818, 'United Arab Emirates'],
  ['AR', -38.416097, -63.616672, 'Argentina'],
  ['AT', 47.516231, 14.550072, 'Austria'],
  ['AU', -25.274398, 133.775136, 'Australia'],
  ['BE', 50.503887, 4.469936, 'Belgium'],
  ['BR', -14.235004, -51.92528, 'Brazil'],
  ['CA', 56.130366, -106.346771, 'Canada'],
  ['CH', 46.818188, 8.227512, 'Switzerland'],
  ['CN', 35.86166, 104.195397, 'China'],
  ['DE', 51.165691, 10.451526, 'Germany'],
  ['DK', 56.26392, 9.501785, 'Denmark'],
  ['ES', 40.463667, -3.74922, 'Spain'],
  ['FI', 61.92411, 25.748151, 'Finland'],
  ['FR', 46.227638, 2.213749, 'France'],
  ['GB', 55.378051, -3.435973, 'United Kingdom'],
  ['GR', 39.074208, 21.824312, 'Greece'],
  ['HK', 22.396428, 114.109497, 'Hong Kong'],
  ['IE', 53.41291, -8.24389, 'Ireland'],
  ['IL', 31.046051, 34.851612, 'Israel'],
  ['IN', 20.593684, 78.96288, 'India'],
  ['IT', 41.87194, 12.56738, 'Italy'],
  ['JP', 36.204824, 138.252924, 'Japan'],
  ['KR', 35.907757, 127.766922, 'South Korea'],
  ['MX', 23.634501, -102.552784, 'Mexico'],
  ['NL', 52.132633, 5.291266, 'Netherlands'],
  ['NO', 60.472024, 8.468946, 'Norway'],
  ['NZ', -40.900557, 174.885971, 'New Zealand'],
  ['PL', 51.919438, 19.145136, 'Poland'],
  ['PT', 39.399872, -8.224454, 'Portugal'],
  ['RU', 61.52401, 105.318756, 'Russia'],
  ['SE', 60.128161, 18.643501, 'Sweden'],
  ['SG', 1.352083, 103.819836, 'Singapore'],
  ['TW', 23.69781, 120.960515, 'Taiwan'],
  ['US', 37.09024, -95.712891, 'United States'],
  ['ZA', -30.559482, 22.937506, 'South Africa'],
]

const META_CATEGORIES = [
  'Antiques',
  'Books',
  'Clothing, Shoes & Accessories',
  'Coins & Paper Money',
  'Collectibles',
  'Computers/Tablets & Networking',
  'Health & Beauty',
  'Home & Garden',
  'Jewelry & Watches',
  'Music',
  'Sporting Goods',
  'Toys & Hobbies',
] as const
const LEAVES_PER_META = 4
const SITES = ['0', '15', '100'] as const
const LEAF_COUNT = META_CATEGORIES.length * LEAVES_PER_META

/** Leaf category ids: 48 distinct five- and six-digit numbers. */
const leafCategId = (leaf: string) => `(${leaf}) * 3917 + 15687`

function countryRows(): string {
  return COUNTRIES.map(
    ([code, lat, long, name]) => `(${toSqlString(code)}, ${lat}, ${long}, ${toSqlString(name)})`,
  ).join(',\n  ')
}

const KYLIN_COUNTRY = `CREATE TABLE "DEFAULT".KYLIN_COUNTRY AS SELECT
  CAST(COUNTRY AS VARCHAR) AS COUNTRY, CAST(LATITUDE AS DOUBLE) AS LATITUDE,
  CAST(LONGITUDE AS DOUBLE) AS LONGITUDE, CAST(NAME AS VARCHAR) AS NAME
FROM (VALUES
  ${countryRows()}
) AS c(COUNTRY, LATITUDE, LONGITUDE, NAME) ORDER BY COUNTRY`

const ACCOUNT: GeneratedColumn[] = [
  { name: 'ACCOUNT_ID', type: 'BIGINT', expr: '10000000 + i' },
  { name: 'ACCOUNT_BUYER_LEVEL', type: 'INTEGER', expr: seeded('i', 'buyer_level', 6) },
  { name: 'ACCOUNT_SELLER_LEVEL', type: 'INTEGER', expr: seeded('i', 'seller_level', 6) },
  {
    name: 'ACCOUNT_COUNTRY',
    type: 'VARCHAR',
    expr: pick(
      'i',
      'country',
      COUNTRIES.map(([code]) => code),
    ),
  },
  { name: 'ACCOUNT_CONTACT', type: 'VARCHAR', expr: `'N/A'` },
]

/** Row k: leaf k / 3 (four per meta category) on site k % 3. */
const CATEGORY_GROUPINGS: GeneratedColumn[] = [
  { name: 'LEAF_CATEG_ID', type: 'BIGINT', expr: leafCategId('k // 3') },
  {
    name: 'LEAF_CATEG_NAME',
    type: 'VARCHAR',
    expr: `${nth(`k // 3 // ${LEAVES_PER_META}`, META_CATEGORIES)} || ' - Leaf ' || (k // 3 % ${LEAVES_PER_META} + 1)`,
  },
  { name: 'SITE_ID', type: 'INTEGER', expr: nth('k % 3', SITES) },
  { name: 'CATEG_BUSN_MGR', type: 'VARCHAR', expr: `'Manager ' || (k // 3 % 7 + 1)` },
  { name: 'CATEG_BUSN_UNIT', type: 'VARCHAR', expr: `'Unit ' || (k // 3 % 5 + 1)` },
  { name: 'REGN_CATEG', type: 'VARCHAR', expr: `'0' || (k % 3 + 1)` },
  { name: 'USER_DEFINED_FIELD1', type: 'VARCHAR', expr: `'4'` },
  { name: 'USER_DEFINED_FIELD3', type: 'VARCHAR', expr: `'0'` },
  { name: 'KYLIN_GROUPINGS_CRE_DATE', type: 'VARCHAR', expr: `'2008-06-03'` },
  { name: 'KYLIN_GROUPINGS_UPD_DATE', type: 'VARCHAR', expr: `'2013-07-07'` },
  { name: 'KYLIN_GROUPINGS_CRE_USER', type: 'VARCHAR', expr: `'USER_X'` },
  { name: 'KYLIN_GROUPINGS_UPD_USER', type: 'VARCHAR', expr: `'USER_S'` },
  { name: 'META_CATEG_ID', type: 'DECIMAL(10,0)', expr: `k // 3 // ${LEAVES_PER_META} + 1` },
  {
    name: 'META_CATEG_NAME',
    type: 'VARCHAR',
    expr: nth(`k // 3 // ${LEAVES_PER_META}`, META_CATEGORIES),
  },
  ...[2, 3, 4, 5, 6, 7].map(
    (level): GeneratedColumn => ({
      name: `CATEG_LVL${level}_ID`,
      type: 'DECIMAL(10,0)',
      expr: level <= 3 ? `(k // 3) * 10 + ${level}` : leafCategId('k // 3'),
    }),
  ),
  ...[2, 3, 4, 5, 6, 7].map(
    (level): GeneratedColumn => ({
      name: `CATEG_LVL${level}_NAME`,
      type: 'VARCHAR',
      expr:
        level <= 3
          ? `'Level ${level} - ' || (k // 3 + 1)`
          : `${nth(`k // 3 // ${LEAVES_PER_META}`, META_CATEGORIES)} || ' - Leaf ' || (k // 3 % ${LEAVES_PER_META} + 1)`,
    }),
  ),
  { name: 'CATEG_FLAGS', type: 'DECIMAL(10,0)', expr: '0' },
  { name: 'ADULT_CATEG_YN', type: 'VARCHAR', expr: `'N'` },
  { name: 'DOMAIN_ID', type: 'DECIMAL(10,0)', expr: `k // 3 % 4` },
  { name: 'USER_DEFINED_FIELD5', type: 'VARCHAR', expr: 'NULL' },
  { name: 'VCS_ID', type: 'DECIMAL(10,0)', expr: '1119' },
  { name: 'GCS_ID', type: 'DECIMAL(10,0)', expr: `k // 3 + 1` },
  { name: 'MOVE_TO', type: 'DECIMAL(10,0)', expr: 'NULL' },
  { name: 'SAP_CATEGORY_ID', type: 'DECIMAL(10,0)', expr: `k // 3 % 10 + 1` },
  { name: 'SRC_ID', type: 'TINYINT', expr: '1' },
  {
    name: 'BSNS_VRTCL_NAME',
    type: 'VARCHAR',
    expr: nth(`k // 3 // 4 % 4`, ['Collectibles', 'Fashion', 'Home & Garden', 'Media']),
  },
]

const SALES: GeneratedColumn[] = [
  { name: 'TRANS_ID', type: 'BIGINT', expr: 'i' },
  {
    name: 'PART_DT',
    type: 'DATE',
    expr: `DATE '2012-01-01' + CAST(${seeded('i', 'part_dt', 731)} AS INTEGER)`,
  },
  {
    name: 'LSTG_FORMAT_NAME',
    type: 'VARCHAR',
    expr: pick('i', 'format', ['Auction', 'Others', 'ABIN', 'FP-non GTC', 'FP-GTC']),
  },
  {
    name: 'LEAF_CATEG_ID',
    type: 'BIGINT',
    expr: leafCategId(`${seeded('i', 'grouping', 3 * LEAF_COUNT)} // 3`),
  },
  {
    name: 'LSTG_SITE_ID',
    type: 'INTEGER',
    expr: nth(`${seeded('i', 'grouping', 3 * LEAF_COUNT)} % 3`, SITES),
  },
  {
    name: 'SLR_SEGMENT_CD',
    type: 'SMALLINT',
    expr: pick('i', 'segment', ['-99', '5', '11', '12', '13', '14', '15', '16']),
  },
  { name: 'PRICE', type: 'DECIMAL(19,4)', expr: `${seeded('i', 'price', 1_000_000)} / 10000` },
  { name: 'ITEM_COUNT', type: 'BIGINT', expr: seeded('i', 'item_count', 100) },
  {
    name: 'SELLER_ID',
    type: 'BIGINT',
    expr: `10000000 + ${seeded('i', 'seller', LEARN_KYLIN_ROWS.KYLIN_ACCOUNT)}`,
  },
  {
    name: 'BUYER_ID',
    type: 'BIGINT',
    expr: `10000000 + ${seeded('i', 'buyer', LEARN_KYLIN_ROWS.KYLIN_ACCOUNT)}`,
  },
  {
    name: 'OPS_USER_ID',
    type: 'VARCHAR',
    expr: pick('i', 'ops_user', ['ADMIN', 'ANALYST', 'MODELER']),
  },
  {
    name: 'OPS_REGION',
    type: 'VARCHAR',
    expr: pick('i', 'ops_region', ['Shanghai', 'Beijing', 'Hongkong']),
  },
  {
    name: 'ITEM_ID',
    type: 'VARCHAR',
    expr: `'ITEM-' || upper(substr(md5(CAST(i AS VARCHAR)), 1, 4))`,
  },
]

/** The reference day the AGE_FOR_* and *_YN_ID columns count from. */
const TODAY = `DATE '2013-12-31'`
const ymd = (date: string) => `strftime(${date}, '%Y-%m-%d')`
const minus = (amount: string) => `CAST(d - INTERVAL ${amount} AS DATE)`
const flag = (condition: string) => `CASE WHEN ${condition} THEN 1 ELSE 0 END`

/** One row per day: d, its quarter start qb, its (Sunday) week start wb and week end we. */
const CAL_DT: GeneratedColumn[] = [
  { name: 'CAL_DT', type: 'DATE', expr: 'd' },
  { name: 'YEAR_BEG_DT', type: 'DATE', expr: `date_trunc('year', d)` },
  { name: 'QTR_BEG_DT', type: 'DATE', expr: 'qb' },
  { name: 'MONTH_BEG_DT', type: 'DATE', expr: `date_trunc('month', d)` },
  { name: 'WEEK_BEG_DT', type: 'DATE', expr: 'wb' },
  { name: 'AGE_FOR_YEAR_ID', type: 'SMALLINT', expr: `datediff('year', ${TODAY}, d)` },
  { name: 'AGE_FOR_QTR_ID', type: 'SMALLINT', expr: `datediff('quarter', ${TODAY}, d)` },
  { name: 'AGE_FOR_MONTH_ID', type: 'SMALLINT', expr: `datediff('month', ${TODAY}, d)` },
  { name: 'AGE_FOR_WEEK_ID', type: 'SMALLINT', expr: `datediff('week', ${TODAY}, d)` },
  { name: 'AGE_FOR_DT_ID', type: 'SMALLINT', expr: `datediff('day', ${TODAY}, d)` },
  { name: 'AGE_FOR_RTL_YEAR_ID', type: 'SMALLINT', expr: `datediff('year', ${TODAY}, d)` },
  { name: 'AGE_FOR_RTL_QTR_ID', type: 'SMALLINT', expr: `datediff('quarter', ${TODAY}, d)` },
  { name: 'AGE_FOR_RTL_MONTH_ID', type: 'SMALLINT', expr: `datediff('month', ${TODAY}, d)` },
  { name: 'AGE_FOR_RTL_WEEK_ID', type: 'SMALLINT', expr: `datediff('week', ${TODAY}, d)` },
  { name: 'AGE_FOR_CS_WEEK_ID', type: 'SMALLINT', expr: `datediff('week', ${TODAY}, d)` },
  { name: 'DAY_OF_CAL_ID', type: 'INTEGER', expr: `datediff('day', DATE '1900-01-01', d) + 1` },
  { name: 'DAY_OF_YEAR_ID', type: 'SMALLINT', expr: 'dayofyear(d)' },
  { name: 'DAY_OF_QTR_ID', type: 'SMALLINT', expr: `datediff('day', qb, d) + 1` },
  { name: 'DAY_OF_MONTH_ID', type: 'SMALLINT', expr: 'day(d)' },
  { name: 'DAY_OF_WEEK_ID', type: 'INTEGER', expr: 'dayofweek(d) + 1' },
  { name: 'WEEK_OF_YEAR_ID', type: 'TINYINT', expr: 'week(d)' },
  { name: 'WEEK_OF_CAL_ID', type: 'INTEGER', expr: `datediff('week', DATE '1900-01-01', d) + 1` },
  { name: 'MONTH_OF_QTR_ID', type: 'TINYINT', expr: '(month(d) - 1) % 3 + 1' },
  { name: 'MONTH_OF_YEAR_ID', type: 'TINYINT', expr: 'month(d)' },
  { name: 'MONTH_OF_CAL_ID', type: 'SMALLINT', expr: '(year(d) - 1900) * 12 + month(d)' },
  { name: 'QTR_OF_YEAR_ID', type: 'TINYINT', expr: 'quarter(d)' },
  { name: 'QTR_OF_CAL_ID', type: 'SMALLINT', expr: '(year(d) - 1900) * 4 + quarter(d)' },
  { name: 'YEAR_OF_CAL_ID', type: 'SMALLINT', expr: 'year(d) - 1900 + 1' },
  { name: 'YEAR_END_DT', type: 'VARCHAR', expr: `strftime(d, '%Y') || '-12-31'` },
  {
    name: 'QTR_END_DT',
    type: 'VARCHAR',
    expr: ymd(`CAST(qb + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE)`),
  },
  { name: 'MONTH_END_DT', type: 'VARCHAR', expr: ymd('last_day(d)') },
  { name: 'WEEK_END_DT', type: 'VARCHAR', expr: ymd('we') },
  { name: 'CAL_DT_NAME', type: 'VARCHAR', expr: `strftime(d, '%d-%b-%Y')` },
  { name: 'CAL_DT_DESC', type: 'VARCHAR', expr: `strftime(d, '%b %d %Y')` },
  { name: 'CAL_DT_SHORT_NAME', type: 'VARCHAR', expr: `strftime(d, '%a %m-%d-%y')` },
  { name: 'YTD_YN_ID', type: 'TINYINT', expr: flag(`dayofyear(d) <= dayofyear(${TODAY})`) },
  {
    name: 'QTD_YN_ID',
    type: 'TINYINT',
    expr: flag(
      `datediff('day', qb, d) <= datediff('day', date_trunc('quarter', ${TODAY}), ${TODAY})`,
    ),
  },
  { name: 'MTD_YN_ID', type: 'TINYINT', expr: flag(`day(d) <= day(${TODAY})`) },
  { name: 'WTD_YN_ID', type: 'TINYINT', expr: flag(`dayofweek(d) <= dayofweek(${TODAY})`) },
  { name: 'SEASON_BEG_DT', type: 'VARCHAR', expr: ymd('qb') },
  {
    name: 'DAY_IN_YEAR_COUNT',
    type: 'SMALLINT',
    expr: `CASE WHEN year(d) % 4 = 0 THEN 366 ELSE 365 END`,
  },
  {
    name: 'DAY_IN_QTR_COUNT',
    type: 'TINYINT',
    expr: `datediff('day', qb, CAST(qb + INTERVAL 3 MONTH AS DATE))`,
  },
  { name: 'DAY_IN_MONTH_COUNT', type: 'TINYINT', expr: 'day(last_day(d))' },
  { name: 'DAY_IN_WEEK_COUNT', type: 'TINYINT', expr: '7' },
  { name: 'RTL_YEAR_BEG_DT', type: 'VARCHAR', expr: ymd(`date_trunc('year', d)`) },
  { name: 'RTL_QTR_BEG_DT', type: 'VARCHAR', expr: ymd('qb') },
  { name: 'RTL_MONTH_BEG_DT', type: 'VARCHAR', expr: ymd(`date_trunc('month', d)`) },
  { name: 'RTL_WEEK_BEG_DT', type: 'VARCHAR', expr: ymd('wb') },
  { name: 'CS_WEEK_BEG_DT', type: 'VARCHAR', expr: ymd('wb') },
  { name: 'CAL_DATE', type: 'VARCHAR', expr: ymd('d') },
  { name: 'DAY_OF_WEEK', type: 'VARCHAR', expr: 'dayname(d)' },
  { name: 'MONTH_ID', type: 'VARCHAR', expr: `strftime(d, '%Y-%m')` },
  { name: 'PRD_DESC', type: 'VARCHAR', expr: `'Month ' || monthname(d)` },
  { name: 'PRD_FLAG', type: 'VARCHAR', expr: `'N'` },
  { name: 'PRD_ID', type: 'VARCHAR', expr: `strftime(d, '%Y%m')` },
  { name: 'PRD_IND', type: 'VARCHAR', expr: `'N'` },
  { name: 'QTR_DESC', type: 'VARCHAR', expr: `'Year ' || year(d) || ' - Quarter 0' || quarter(d)` },
  { name: 'QTR_ID', type: 'VARCHAR', expr: `year(d) || 'Q0' || quarter(d)` },
  { name: 'QTR_IND', type: 'VARCHAR', expr: `'N'` },
  { name: 'RETAIL_WEEK', type: 'VARCHAR', expr: `CAST(week(d) AS VARCHAR)` },
  { name: 'RETAIL_YEAR', type: 'VARCHAR', expr: `CAST(year(d) AS VARCHAR)` },
  { name: 'RETAIL_START_DATE', type: 'VARCHAR', expr: ymd(`date_trunc('year', d)`) },
  { name: 'RETAIL_WK_END_DATE', type: 'VARCHAR', expr: ymd('we') },
  { name: 'WEEK_IND', type: 'VARCHAR', expr: `'N'` },
  {
    name: 'WEEK_NUM_DESC',
    type: 'VARCHAR',
    expr: `'Wk.' || lpad(CAST(week(d) AS VARCHAR), 2, '0') || ' - ' || strftime(d, '%y')`,
  },
  { name: 'WEEK_BEG_DATE', type: 'VARCHAR', expr: `strftime(wb, '%d-%b-%Y')` },
  { name: 'WEEK_END_DATE', type: 'VARCHAR', expr: `strftime(we, '%d-%b-%Y')` },
  {
    name: 'WEEK_IN_YEAR_ID',
    type: 'VARCHAR',
    expr: `year(d) || '-' || lpad(CAST(week(d) AS VARCHAR), 2, '0')`,
  },
  { name: 'WEEK_ID', type: 'VARCHAR', expr: `year(d) || lpad(CAST(week(d) AS VARCHAR), 2, '0')` },
  {
    name: 'WEEK_BEG_END_DESC_MDY',
    type: 'VARCHAR',
    expr: `strftime(wb, '%m/%d/%Y') || ' - ' || strftime(we, '%m/%d/%Y')`,
  },
  {
    name: 'WEEK_BEG_END_DESC_MD',
    type: 'VARCHAR',
    expr: `strftime(wb, '%m/%d') || ' - ' || strftime(we, '%m/%d')`,
  },
  { name: 'YEAR_ID', type: 'VARCHAR', expr: `CAST(year(d) AS VARCHAR)` },
  { name: 'YEAR_IND', type: 'VARCHAR', expr: `'N'` },
  { name: 'CAL_DT_MNS_1YEAR_DT', type: 'VARCHAR', expr: ymd(minus('1 YEAR')) },
  { name: 'CAL_DT_MNS_2YEAR_DT', type: 'VARCHAR', expr: ymd(minus('2 YEAR')) },
  { name: 'CAL_DT_MNS_1QTR_DT', type: 'VARCHAR', expr: ymd(minus('3 MONTH')) },
  { name: 'CAL_DT_MNS_2QTR_DT', type: 'VARCHAR', expr: ymd(minus('6 MONTH')) },
  { name: 'CAL_DT_MNS_1MONTH_DT', type: 'VARCHAR', expr: ymd(minus('1 MONTH')) },
  { name: 'CAL_DT_MNS_2MONTH_DT', type: 'VARCHAR', expr: ymd(minus('2 MONTH')) },
  { name: 'CAL_DT_MNS_1WEEK_DT', type: 'VARCHAR', expr: ymd(minus('7 DAY')) },
  { name: 'CAL_DT_MNS_2WEEK_DT', type: 'VARCHAR', expr: ymd(minus('14 DAY')) },
  {
    name: 'CURR_CAL_DT_MNS_1YEAR_YN_ID',
    type: 'TINYINT',
    expr: flag(`d = CAST(${TODAY} - INTERVAL 1 YEAR AS DATE)`),
  },
  {
    name: 'CURR_CAL_DT_MNS_2YEAR_YN_ID',
    type: 'TINYINT',
    expr: flag(`d = CAST(${TODAY} - INTERVAL 2 YEAR AS DATE)`),
  },
  {
    name: 'CURR_CAL_DT_MNS_1QTR_YN_ID',
    type: 'TINYINT',
    expr: flag(`d = CAST(${TODAY} - INTERVAL 3 MONTH AS DATE)`),
  },
  {
    name: 'CURR_CAL_DT_MNS_2QTR_YN_ID',
    type: 'TINYINT',
    expr: flag(`d = CAST(${TODAY} - INTERVAL 6 MONTH AS DATE)`),
  },
  {
    name: 'CURR_CAL_DT_MNS_1MONTH_YN_ID',
    type: 'TINYINT',
    expr: flag(`d = CAST(${TODAY} - INTERVAL 1 MONTH AS DATE)`),
  },
  {
    name: 'CURR_CAL_DT_MNS_2MONTH_YN_ID',
    type: 'TINYINT',
    expr: flag(`d = CAST(${TODAY} - INTERVAL 2 MONTH AS DATE)`),
  },
  { name: 'CURR_CAL_DT_MNS_1WEEK_YN_IND', type: 'TINYINT', expr: flag(`d = ${TODAY} - 7`) },
  { name: 'CURR_CAL_DT_MNS_2WEEK_YN_IND', type: 'TINYINT', expr: flag(`d = ${TODAY} - 14`) },
  { name: 'RTL_MONTH_OF_RTL_YEAR_ID', type: 'VARCHAR', expr: `'M' || strftime(d, '%m')` },
  { name: 'RTL_QTR_OF_RTL_YEAR_ID', type: 'TINYINT', expr: 'quarter(d)' },
  { name: 'RTL_WEEK_OF_RTL_YEAR_ID', type: 'TINYINT', expr: 'week(d)' },
  { name: 'SEASON_OF_YEAR_ID', type: 'TINYINT', expr: 'quarter(d)' },
  { name: 'YTM_YN_ID', type: 'TINYINT', expr: flag(`month(d) < month(${TODAY})`) },
  { name: 'YTQ_YN_ID', type: 'TINYINT', expr: flag(`quarter(d) < quarter(${TODAY})`) },
  { name: 'YTW_YN_ID', type: 'TINYINT', expr: flag(`week(d) < week(${TODAY})`) },
  { name: 'KYLIN_CAL_DT_CRE_DATE', type: 'VARCHAR', expr: `'2005-09-07'` },
  { name: 'KYLIN_CAL_DT_CRE_USER', type: 'VARCHAR', expr: `'USER_X'` },
  { name: 'KYLIN_CAL_DT_UPD_DATE', type: 'VARCHAR', expr: `'2013-11-27 00:16:56'` },
  { name: 'KYLIN_CAL_DT_UPD_USER', type: 'VARCHAR', expr: `'USER_X'` },
]

/** The statements that create and fill the DEFAULT schema. */
export function toLearnKylinStatements(): string[] {
  const rows = LEARN_KYLIN_ROWS
  return [
    `CREATE SCHEMA "${LEARN_KYLIN_SCHEMA}"`,
    KYLIN_COUNTRY,
    toCreateTable(
      LEARN_KYLIN_SCHEMA,
      'KYLIN_ACCOUNT',
      ACCOUNT,
      `FROM (SELECT range AS i FROM range(${rows.KYLIN_ACCOUNT}))`,
    ),
    toCreateTable(
      LEARN_KYLIN_SCHEMA,
      'KYLIN_CATEGORY_GROUPINGS',
      CATEGORY_GROUPINGS,
      `FROM (SELECT range AS k FROM range(${rows.KYLIN_CATEGORY_GROUPINGS}))`,
    ),
    toCreateTable(
      LEARN_KYLIN_SCHEMA,
      'KYLIN_CAL_DT',
      CAL_DT,
      `FROM (
  SELECT d, CAST(date_trunc('quarter', d) AS DATE) AS qb,
    d - CAST(dayofweek(d) AS INTEGER) AS wb, d - CAST(dayofweek(d) AS INTEGER) + 6 AS we
  FROM (SELECT DATE '2012-01-01' + CAST(range AS INTEGER) AS d FROM range(${rows.KYLIN_CAL_DT}))
)`,
    ),
    toCreateTable(
      LEARN_KYLIN_SCHEMA,
      'KYLIN_SALES',
      SALES,
      `FROM (SELECT range AS i FROM range(${rows.KYLIN_SALES}))`,
    ),
  ]
}
