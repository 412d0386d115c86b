/**
 * One export of bench/columnar.bench.ts in a process of its own, on the compiled writers
 * (dist/), as the gateway runs them: `node bench/columnar-child.mjs <writer> <rows> [group]`.
 * Prints one JSON line: wall and CPU time, bytes, start and peak RSS. Bench only, Node only.
 */
import { toColumns } from '../dist/export/columns.js'
import { createArrowWriter } from '../dist/export/writers/arrow/arrow-writer.js'
import { createCsvWriter } from '../dist/export/writers/csv.js'
import { createParquetWriter } from '../dist/export/writers/parquet/parquet-writer.js'

const [name = 'csv', rowsText = '1000000', groupText] = process.argv.slice(2)
const ROWS = Number(rowsText)
const GROUP = groupText === undefined ? undefined : Number(groupText)
/** Rows per batch, as the Kylin JSON source hands them on. */
const BATCH_ROWS = 1_000

const COLUMNS = toColumns([
  { label: 'TRANS_ID', columnTypeName: 'BIGINT', precision: 19, scale: 0 },
  { label: 'PART_DT', columnTypeName: 'DATE' },
  { label: 'SOLD_AT', columnTypeName: 'TIMESTAMP' },
  { label: 'FORMAT', columnTypeName: 'VARCHAR', precision: 256, scale: 0 },
  { label: 'CITY', columnTypeName: 'VARCHAR', precision: 256, scale: 0 },
  { label: 'SELLER_ID', columnTypeName: 'INTEGER', precision: 10, scale: 0 },
  { label: 'PRICE', columnTypeName: 'DECIMAL', precision: 19, scale: 4 },
  { label: 'RATIO', columnTypeName: 'DOUBLE', precision: 15, scale: 0 },
  { label: 'IS_EFFECTUAL', columnTypeName: 'BOOLEAN' },
  { label: 'NOTE', columnTypeName: 'VARCHAR', precision: 256, scale: 0 },
])

const FORMATS = ['Auction', 'FP-GTC', 'FP-non GTC', 'ABIN', 'Others']
const CITIES = ['NYC', 'Zürich', '東京', 'Shanghai', 'São Paulo', 'London', 'Berlin']
const two = (n) => String(n).padStart(2, '0')

/** Row `i` as Kylin's text: deterministic, some nulls, some cells that CSV must quote. */
function toRow(i) {
  const date = `2013-${two(1 + (i % 12))}-${two(1 + (i % 28))}`
  const s = i % 86_400
  const time = `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`
  return [
    String(9_000_000_000_000 + i * 7),
    date,
    `${date} ${time}.${String(i % 1000).padStart(3, '0')}`,
    FORMATS[i % FORMATS.length],
    CITIES[(i * 7) % CITIES.length],
    String((i * 2654435761) % 100_000_000),
    `${(i * 37) % 1_000_000}.${String(i % 10_000).padStart(4, '0')}`,
    String(((i * 7919) % 100_000) / 997),
    i % 3 === 0 ? 'false' : 'true',
    i % 5 === 0 ? null : i % 13 === 0 ? `say "hi", item ${i}\nbye` : `item ${i % 5000}`,
  ]
}

function createWriter() {
  switch (name) {
    case 'rows':
      return null
    case 'csv':
      return createCsvWriter({ separator: ',', includeHeader: true })
    case 'parquet':
      return createParquetWriter({ rowGroupSize: GROUP })
    case 'parquet-none':
      return createParquetWriter({ rowGroupSize: GROUP, compression: 'none' })
    case 'arrow':
      return createArrowWriter({ batchSize: GROUP })
  }
  throw new Error(`unknown writer ${name}`)
}

const startRss = process.memoryUsage().rss
let peakRss = startRss
const writer = createWriter()
const started = performance.now()
const cpu = process.cpuUsage()
// The bytes are counted and dropped, as the store would take them.
let bytes = writer?.start(COLUMNS).length ?? 0
for (let start = 0; start < ROWS; start += BATCH_ROWS) {
  const cells = []
  const rowEnds = []
  for (let i = start; i < Math.min(ROWS, start + BATCH_ROWS); i++) {
    for (const cell of toRow(i)) cells.push(cell)
    rowEnds.push(cells.length)
  }
  bytes += writer?.rows({ cells, rowEnds }).length ?? 0
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
}
bytes += writer?.end().length ?? 0
peakRss = Math.max(peakRss, process.memoryUsage().rss)
const { user, system } = process.cpuUsage(cpu)
const ms = performance.now() - started
console.log(
  JSON.stringify({
    writer: name,
    group: GROUP ?? null,
    ms,
    cpuMs: (user + system) / 1000,
    bytes,
    startRss,
    peakRss,
  }),
)
