/**
 * The export benchmark's data set: `bench_<n>` is n deterministic Kylin-sales-like rows × 10
 * columns, pre-rendered as a Kylin 2.x `SQLResponse` body in ~1 MiB Buffers. Bench only, Node only.
 */
import { encodeCsvRow, type Cell } from '../src/export/csv/encode.ts'

/** What a correct export of the body must produce; counted with the project's reference encoder. */
export interface Expectation {
  rows: number
  /** Bytes of the JSON body. */
  jsonBytes: number
  /** Bytes of the CSV (`,`, no header) that `encodeCsvRow` makes of every row. */
  csvBytes: number
  /** `\n` bytes in that CSV: one per row plus the few cells that hold a newline. */
  csvNewlines: number
}

export interface RenderedBody extends Expectation {
  chunks: Buffer[]
  renderMs: number
}

/** ~1 MiB per Buffer: big enough that writing them costs nothing, small enough to flow. */
const CHUNK_CHARS = 1024 * 1024 - 4096

interface ColumnSpec {
  name: string
  typeName: string
  columnType: number
  precision: number
  scale: number
  nullable: boolean
}

const COLUMNS: ColumnSpec[] = [
  {
    name: 'TRANS_ID',
    typeName: 'BIGINT',
    columnType: -5,
    precision: 19,
    scale: 0,
    nullable: false,
  },
  { name: 'PART_DT', typeName: 'DATE', columnType: 91, precision: 0, scale: 0, nullable: true },
  {
    name: 'LSTG_FORMAT_NAME',
    typeName: 'VARCHAR',
    columnType: 12,
    precision: 256,
    scale: 0,
    nullable: true,
  },
  {
    name: 'LEAF_CATEG_ID',
    typeName: 'BIGINT',
    columnType: -5,
    precision: 19,
    scale: 0,
    nullable: true,
  },
  { name: 'PRICE', typeName: 'DECIMAL', columnType: 3, precision: 19, scale: 4, nullable: true },
  {
    name: 'ITEM_COUNT',
    typeName: 'INTEGER',
    columnType: 4,
    precision: 10,
    scale: 0,
    nullable: true,
  },
  {
    name: 'SELLER_ID',
    typeName: 'BIGINT',
    columnType: -5,
    precision: 19,
    scale: 0,
    nullable: true,
  },
  {
    name: 'OPS_REGION',
    typeName: 'VARCHAR',
    columnType: 12,
    precision: 256,
    scale: 0,
    nullable: true,
  },
  {
    name: 'BUYER_NAME',
    typeName: 'VARCHAR',
    columnType: 12,
    precision: 256,
    scale: 0,
    nullable: true,
  },
  { name: 'NOTE', typeName: 'VARCHAR', columnType: 12, precision: 256, scale: 0, nullable: true },
]

/** Kylin 2.x `SelectedColumnMeta`, in the order Jackson writes its fields. */
export function toColumnMetas(): Record<string, unknown>[] {
  return COLUMNS.map((c) => ({
    isNullable: c.nullable ? 1 : 0,
    displaySize: c.typeName === 'VARCHAR' ? 256 : c.precision || 10,
    label: c.name,
    name: c.name,
    schemaName: 'DEFAULT',
    catelogName: null,
    tableName: 'KYLIN_SALES',
    precision: c.precision,
    scale: c.scale,
    columnType: c.columnType,
    columnTypeName: c.typeName,
    readOnly: true,
    writable: false,
    caseSensitive: c.typeName === 'VARCHAR',
    searchable: false,
    currency: false,
    signed: c.typeName !== 'VARCHAR' && c.typeName !== 'DATE',
    autoIncrement: false,
    definitelyWritable: false,
  }))
}

const FORMATS = ['Auction', 'FP-GTC', 'FP-non GTC', 'ABIN', 'Others']
// Commas, non-ASCII and nulls, so the encoder's quoting and UTF-8 paths are exercised.
const REGIONS = ['Beijing', 'Shanghai', 'Hongkong, Kowloon', '上海', 'Zürich', null, 'São Paulo']
const DATES = Array.from({ length: 730 }, (_, d) =>
  new Date(Date.UTC(2012, 0, 1 + d)).toISOString().slice(0, 10),
)

/** Row `i` of `bench_<n>`: pure in `i`, so every render of a size is byte-identical. */
export function toBenchRow(i: number): Cell[] {
  return [
    String(i),
    DATES[i % DATES.length],
    FORMATS[i % FORMATS.length],
    String(100000 + ((i * 7919) % 900000)),
    `${(i * 37) % 1000}.${String((i * 13) % 10000).padStart(4, '0')}`,
    String(i % 100),
    i % 11 === 0 ? null : String(10000000 + (i % 1000)),
    REGIONS[i % REGIONS.length],
    `buyer_${i % 4999}`,
    toNote(i),
  ]
}

function toNote(i: number): string | null {
  // Rare on purpose: escapes cost the parser more than plain text, and real data has few.
  if (i % 1000 === 4) return 'line1\nline2' // a `\n` escape: the CSV cell is quoted
  if (i % 1000 === 5) return 'ctl\u0001 😀' // a `\u0001` escape and a surrogate pair
  switch (i % 50) {
    case 0:
      return 'say "hi", then leave'
    case 1:
      return 'tab\there \\ back'
    case 2:
      return '2\u00a0000 €'
    case 3:
      return null
    default:
      return `note ${i % 97}`
  }
}

function toTrailer(rows: number): string {
  // Everything after `results`, as Kylin 2.x–4.x sends it (a leading comma joins it on).
  const trailer = JSON.stringify({
    cube: 'CUBE[name=kylin_sales_cube]',
    affectedRowCount: 0,
    isException: false,
    exceptionMessage: null,
    duration: 1234,
    totalScanCount: rows,
    totalScanBytes: rows * 96,
    hitExceptionCache: false,
    storageCacheUsed: false,
    traceUrl: null,
    pushDown: false,
    partial: false,
  })
  return `],${trailer.slice(1)}`
}

/**
 * Renders `bench_<rows>` incrementally: rows are appended to a string of at most ~1 MiB that is
 * then encoded into a Buffer, so even 5 M rows never make one giant JS string.
 */
export function renderBody(rows: number): RenderedBody {
  const started = performance.now()
  const chunks: Buffer[] = []
  let jsonBytes = 0
  let csvBytes = 0
  let csvNewlines = 0
  let text = `{"columnMetas":${JSON.stringify(toColumnMetas())},"results":[`
  const flush = () => {
    const chunk = Buffer.from(text, 'utf8')
    chunks.push(chunk)
    jsonBytes += chunk.length
    text = ''
  }
  for (let i = 0; i < rows; i++) {
    const cells = toBenchRow(i)
    text += (i === 0 ? '' : ',') + JSON.stringify(cells)
    const csv = encodeCsvRow(cells, ',')
    csvBytes += Buffer.byteLength(csv, 'utf8')
    for (let at = csv.indexOf('\n'); at !== -1; at = csv.indexOf('\n', at + 1)) csvNewlines++
    if (text.length >= CHUNK_CHARS) flush()
  }
  text += toTrailer(rows)
  flush()
  return { rows, jsonBytes, csvBytes, csvNewlines, chunks, renderMs: performance.now() - started }
}
