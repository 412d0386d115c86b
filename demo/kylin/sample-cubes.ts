/**
 * learn_kylin's model and cube as Kylin 2–4's sample ships them (kylin_sales_model,
 * kylin_sales_cube), in the JSON of DataModelDesc, CubeDesc and CubeInstance: what BI clients
 * read to list cubes and their dimensions. Descriptions only: the emulator answers every query
 * by push-down. Node only.
 */
import { METADATA_TIME, toStableUuid } from './table-metadata.ts'

const VERSION = '3.0.0.20500'
const MODEL = 'kylin_sales_model'
const CUBE = 'kylin_sales_cube'

const join = (primary: string[], foreign: string[]) => ({
  type: 'inner',
  primary_key: primary,
  foreign_key: foreign,
})

export const LEARN_KYLIN_MODEL = {
  uuid: toStableUuid(`model:${MODEL}`),
  last_modified: METADATA_TIME,
  version: VERSION,
  name: MODEL,
  owner: 'ADMIN',
  is_draft: false,
  description: '',
  fact_table: 'DEFAULT.KYLIN_SALES',
  lookups: [
    {
      table: 'DEFAULT.KYLIN_CAL_DT',
      kind: 'LOOKUP',
      alias: 'KYLIN_CAL_DT',
      join: join(['KYLIN_CAL_DT.CAL_DT'], ['KYLIN_SALES.PART_DT']),
    },
    {
      table: 'DEFAULT.KYLIN_CATEGORY_GROUPINGS',
      kind: 'LOOKUP',
      alias: 'KYLIN_CATEGORY_GROUPINGS',
      join: join(
        ['KYLIN_CATEGORY_GROUPINGS.LEAF_CATEG_ID', 'KYLIN_CATEGORY_GROUPINGS.SITE_ID'],
        ['KYLIN_SALES.LEAF_CATEG_ID', 'KYLIN_SALES.LSTG_SITE_ID'],
      ),
    },
    {
      table: 'DEFAULT.KYLIN_ACCOUNT',
      kind: 'LOOKUP',
      alias: 'BUYER_ACCOUNT',
      join: join(['BUYER_ACCOUNT.ACCOUNT_ID'], ['KYLIN_SALES.BUYER_ID']),
    },
    {
      table: 'DEFAULT.KYLIN_ACCOUNT',
      kind: 'LOOKUP',
      alias: 'SELLER_ACCOUNT',
      join: join(['SELLER_ACCOUNT.ACCOUNT_ID'], ['KYLIN_SALES.SELLER_ID']),
    },
    {
      table: 'DEFAULT.KYLIN_COUNTRY',
      kind: 'LOOKUP',
      alias: 'BUYER_COUNTRY',
      join: join(['BUYER_COUNTRY.COUNTRY'], ['BUYER_ACCOUNT.ACCOUNT_COUNTRY']),
    },
    {
      table: 'DEFAULT.KYLIN_COUNTRY',
      kind: 'LOOKUP',
      alias: 'SELLER_COUNTRY',
      join: join(['SELLER_COUNTRY.COUNTRY'], ['SELLER_ACCOUNT.ACCOUNT_COUNTRY']),
    },
  ],
  dimensions: [
    {
      table: 'KYLIN_SALES',
      columns: [
        'TRANS_ID',
        'SELLER_ID',
        'BUYER_ID',
        'PART_DT',
        'LEAF_CATEG_ID',
        'LSTG_FORMAT_NAME',
        'LSTG_SITE_ID',
        'OPS_USER_ID',
        'OPS_REGION',
      ],
    },
    { table: 'KYLIN_CAL_DT', columns: ['CAL_DT', 'WEEK_BEG_DT', 'MONTH_BEG_DT', 'YEAR_BEG_DT'] },
    {
      table: 'KYLIN_CATEGORY_GROUPINGS',
      columns: [
        'USER_DEFINED_FIELD1',
        'USER_DEFINED_FIELD3',
        'META_CATEG_NAME',
        'CATEG_LVL2_NAME',
        'CATEG_LVL3_NAME',
        'LEAF_CATEG_ID',
        'SITE_ID',
      ],
    },
    { table: 'BUYER_ACCOUNT', columns: ['ACCOUNT_ID', 'ACCOUNT_BUYER_LEVEL', 'ACCOUNT_COUNTRY'] },
    { table: 'SELLER_ACCOUNT', columns: ['ACCOUNT_ID', 'ACCOUNT_SELLER_LEVEL', 'ACCOUNT_COUNTRY'] },
    { table: 'BUYER_COUNTRY', columns: ['COUNTRY', 'NAME'] },
    { table: 'SELLER_COUNTRY', columns: ['COUNTRY', 'NAME'] },
  ],
  metrics: ['KYLIN_SALES.PRICE', 'KYLIN_SALES.ITEM_COUNT'],
  filter_condition: '',
  partition_desc: {
    partition_date_column: 'KYLIN_SALES.PART_DT',
    partition_time_column: null,
    partition_date_start: 1325376000000,
    partition_date_format: 'yyyy-MM-dd',
    partition_time_format: 'HH:mm:ss',
    partition_type: 'APPEND',
    partition_condition_builder:
      'org.apache.kylin.metadata.model.PartitionDesc$DefaultPartitionConditionBuilder',
  },
  capacity: 'MEDIUM',
}

const dimension = (name: string, table: string, column: string | null, derived?: string[]) => ({
  name,
  table,
  column,
  derived: derived ?? null,
})

const measure = (
  name: string,
  expression: string,
  parameter: { type: 'constant' | 'column'; value: string },
  returntype: string,
) => ({ name, function: { expression, parameter, returntype } })

const ROWKEY = [
  ['KYLIN_SALES.PART_DT', 'date'],
  ['KYLIN_SALES.LEAF_CATEG_ID', 'dict'],
  ['KYLIN_SALES.LSTG_SITE_ID', 'dict'],
  ['KYLIN_CATEGORY_GROUPINGS.META_CATEG_NAME', 'dict'],
  ['KYLIN_CATEGORY_GROUPINGS.CATEG_LVL2_NAME', 'dict'],
  ['KYLIN_CATEGORY_GROUPINGS.CATEG_LVL3_NAME', 'dict'],
  ['KYLIN_SALES.LSTG_FORMAT_NAME', 'dict'],
  ['KYLIN_SALES.SELLER_ID', 'integer:4'],
  ['KYLIN_SALES.BUYER_ID', 'integer:4'],
  ['BUYER_ACCOUNT.ACCOUNT_BUYER_LEVEL', 'dict'],
  ['SELLER_ACCOUNT.ACCOUNT_SELLER_LEVEL', 'dict'],
  ['BUYER_ACCOUNT.ACCOUNT_COUNTRY', 'dict'],
  ['SELLER_ACCOUNT.ACCOUNT_COUNTRY', 'dict'],
  ['KYLIN_SALES.OPS_USER_ID', 'dict'],
  ['KYLIN_SALES.OPS_REGION', 'dict'],
] as const

export const LEARN_KYLIN_CUBE_DESC = {
  uuid: toStableUuid(`cube_desc:${CUBE}`),
  last_modified: METADATA_TIME,
  version: VERSION,
  name: CUBE,
  is_draft: false,
  model_name: MODEL,
  description: '',
  null_string: null,
  dimensions: [
    dimension('TRANS_ID', 'KYLIN_SALES', 'TRANS_ID'),
    dimension('YEAR_BEG_DT', 'KYLIN_CAL_DT', null, ['YEAR_BEG_DT']),
    dimension('MONTH_BEG_DT', 'KYLIN_CAL_DT', null, ['MONTH_BEG_DT']),
    dimension('WEEK_BEG_DT', 'KYLIN_CAL_DT', null, ['WEEK_BEG_DT']),
    dimension('USER_DEFINED_FIELD1', 'KYLIN_CATEGORY_GROUPINGS', null, ['USER_DEFINED_FIELD1']),
    dimension('USER_DEFINED_FIELD3', 'KYLIN_CATEGORY_GROUPINGS', null, ['USER_DEFINED_FIELD3']),
    dimension('META_CATEG_NAME', 'KYLIN_CATEGORY_GROUPINGS', 'META_CATEG_NAME'),
    dimension('CATEG_LVL2_NAME', 'KYLIN_CATEGORY_GROUPINGS', 'CATEG_LVL2_NAME'),
    dimension('CATEG_LVL3_NAME', 'KYLIN_CATEGORY_GROUPINGS', 'CATEG_LVL3_NAME'),
    dimension('LSTG_FORMAT_NAME', 'KYLIN_SALES', 'LSTG_FORMAT_NAME'),
    dimension('SELLER_ID', 'KYLIN_SALES', 'SELLER_ID'),
    dimension('BUYER_ID', 'KYLIN_SALES', 'BUYER_ID'),
    dimension('ACCOUNT_BUYER_LEVEL', 'BUYER_ACCOUNT', 'ACCOUNT_BUYER_LEVEL'),
    dimension('ACCOUNT_SELLER_LEVEL', 'SELLER_ACCOUNT', 'ACCOUNT_SELLER_LEVEL'),
    dimension('BUYER_COUNTRY', 'BUYER_ACCOUNT', 'ACCOUNT_COUNTRY'),
    dimension('SELLER_COUNTRY', 'SELLER_ACCOUNT', 'ACCOUNT_COUNTRY'),
    dimension('BUYER_COUNTRY_NAME', 'BUYER_COUNTRY', null, ['NAME']),
    dimension('SELLER_COUNTRY_NAME', 'SELLER_COUNTRY', null, ['NAME']),
    dimension('OPS_USER_ID', 'KYLIN_SALES', 'OPS_USER_ID'),
    dimension('OPS_REGION', 'KYLIN_SALES', 'OPS_REGION'),
  ],
  measures: [
    measure('GMV_SUM', 'SUM', { type: 'column', value: 'KYLIN_SALES.PRICE' }, 'decimal(19,4)'),
    measure(
      'BUYER_LEVEL_SUM',
      'SUM',
      { type: 'column', value: 'BUYER_ACCOUNT.ACCOUNT_BUYER_LEVEL' },
      'bigint',
    ),
    measure(
      'SELLER_LEVEL_SUM',
      'SUM',
      { type: 'column', value: 'SELLER_ACCOUNT.ACCOUNT_SELLER_LEVEL' },
      'bigint',
    ),
    measure('TRANS_CNT', 'COUNT', { type: 'constant', value: '1' }, 'bigint'),
    measure(
      'SELLER_CNT_HLL',
      'COUNT_DISTINCT',
      { type: 'column', value: 'KYLIN_SALES.SELLER_ID' },
      'hllc(10)',
    ),
    measure('TOP_SELLER', 'TOP_N', { type: 'column', value: 'KYLIN_SALES.PRICE' }, 'topn(100)'),
  ],
  dictionaries: [],
  rowkey: {
    rowkey_columns: ROWKEY.map(([column, encoding]) => ({
      column,
      encoding,
      encoding_version: 1,
      isShardBy: false,
    })),
  },
  hbase_mapping: {
    column_family: [
      {
        name: 'F1',
        columns: [
          {
            qualifier: 'M',
            measure_refs: ['GMV_SUM', 'BUYER_LEVEL_SUM', 'SELLER_LEVEL_SUM', 'TRANS_CNT'],
          },
        ],
      },
      { name: 'F2', columns: [{ qualifier: 'M', measure_refs: ['SELLER_CNT_HLL', 'TOP_SELLER'] }] },
    ],
  },
  aggregation_groups: [
    {
      includes: ROWKEY.map(([column]) => column),
      select_rule: {
        hierarchy_dims: [],
        mandatory_dims: ['KYLIN_SALES.PART_DT'],
        joint_dims: [],
      },
    },
  ],
  signature: null,
  notify_list: [],
  status_need_notify: [],
  partition_date_start: 0,
  partition_date_end: 3153600000000,
  auto_merge_time_ranges: [],
  volatile_range: 0,
  retention_range: 0,
  engine_type: 2,
  storage_type: 2,
  override_kylin_properties: {},
  cuboid_black_list: [],
  parent_forward: 3,
  mandatory_dimension_set_list: [],
  snapshot_table_desc_list: [],
}

/** `GET /kylin/api/cubes`: the CubeInstance (CubeInstanceResponse) of the sample, READY. */
export const LEARN_KYLIN_CUBE = {
  uuid: toStableUuid(`cube:${CUBE}`),
  last_modified: METADATA_TIME,
  version: VERSION,
  name: CUBE,
  owner: 'ADMIN',
  descriptor: CUBE,
  display_name: CUBE,
  cost: 50,
  status: 'READY',
  segments: [],
  create_time_utc: METADATA_TIME,
  cuboid_bytes: null,
  cuboid_bytes_recommend: null,
  cuboid_last_optimized: 0,
  snapshots: {},
  project: 'learn_kylin',
  model: MODEL,
  is_streaming: false,
  partitionDateColumn: 'KYLIN_SALES.PART_DT',
  partitionDateStart: 1325376000000,
  isStandardPartitioned: true,
  size_kb: 0,
  input_records_count: 0,
  input_records_size: 0,
}

/** Which project holds the sample model and cube (Kylin project names ignore case). */
export const SAMPLE_PROJECT = 'learn_kylin'
