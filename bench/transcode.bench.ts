/**
 * Throughput of the SQLResponse → CSV transcoder (the fused kernel, with its JS and its
 * WebAssembly fast path) on 1M rows × 10 columns (~87 MB), against a copy-free stream read, the parts path (Kylin JSON source + CSV writer, where
 * other formats start from), the same CSV in GBK (the parts path, its check and transcoding) and
 * JSON.parse + the reference encoder.
 * Run: npx tsx bench/transcode.bench.ts (ROWS=…, RUNS=…, ONLY=transcoder,wasm for some passes).
 * Node; figures are medians after a warm-up.
 */
import { encodeCsvRow, type Cell } from '../src/export/csv/encode.ts'
import { exportResult } from '../src/export/export-result.ts'
import type { KylinCsvKernel } from '../src/export/kylin-csv/kernel-choice.ts'
import { transcodeKylinResult } from '../src/export/kylin-csv/transcode-stream.ts'
import { toRow } from '../test/export/kylin-csv/workerd/bench-body.ts'
import { pullStreamOf } from '../test/support/streams.ts'

const ROWS = Number(process.env.ROWS ?? 1_000_000)
const CHUNK = 64 * 1024
const RUNS = Number(process.env.RUNS ?? 3)
/** ONLY=transcoder runs one pass (e.g. under --cpu-prof); ONLY=transcoder,wasm those two. */
const ONLY = process.env.ONLY?.split(',')

const encoder = new TextEncoder()

function buildBody(): Uint8Array[] {
  const head = JSON.stringify({
    columnMetas: Array.from({ length: 10 }, (_, i) => ({
      isNullable: 1,
      label: `C${i}`,
      name: `C${i}`,
      columnTypeName: 'VARCHAR',
    })),
  })
  const tail =
    '],"cube":"CUBE[name=kylin_sales_cube]","affectedRowCount":0,"isException":false,' +
    '"exceptionMessage":null,"duration":61,"totalScanCount":2,"pushDown":false,"partial":false}'
  const parts: Uint8Array[] = [encoder.encode(head.slice(0, -1) + ',"results":[')]
  const batch = 10_000
  for (let start = 0; start < ROWS; start += batch) {
    const rows: string[] = []
    for (let i = start; i < Math.min(ROWS, start + batch); i++) rows.push(JSON.stringify(toRow(i)))
    parts.push(encoder.encode((start === 0 ? '' : ',') + rows.join(',')))
  }
  parts.push(encoder.encode(tail))
  // Re-cut into 64 KiB chunks, as a network would deliver them.
  const total = parts.reduce((n, p) => n + p.length, 0)
  const whole = new Uint8Array(total)
  let offset = 0
  for (const part of parts) {
    whole.set(part, offset)
    offset += part.length
  }
  const chunks: Uint8Array[] = []
  for (let i = 0; i < total; i += CHUNK) chunks.push(whole.subarray(i, i + CHUNK))
  return chunks
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stream.getReader()
  let bytes = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return bytes
    bytes += value.length
  }
}

async function baseline(chunks: Uint8Array[]): Promise<number> {
  return drain(pullStreamOf(chunks))
}

/** The old path: the whole text, JSON.parse, the reference encoder, TextEncoder per batch. */
async function jsonParse(chunks: Uint8Array[]): Promise<number> {
  const text = await new Response(pullStreamOf(chunks)).text()
  const parsed = JSON.parse(text) as { results: Cell[][] }
  let bytes = 0
  let csv = ''
  for (const row of parsed.results) {
    csv += encodeCsvRow(row, ',')
    if (csv.length > 65_536) {
      bytes += encoder.encode(csv).length
      csv = ''
    }
  }
  return bytes + encoder.encode(csv).length
}

async function transcoder(chunks: Uint8Array[], kernel: KylinCsvKernel = 'js'): Promise<number> {
  const { csv, summary } = transcodeKylinResult(pullStreamOf(chunks), {
    separator: ',',
    includeHeader: true,
    kernel,
  })
  const bytes = await drain(csv)
  const result = await summary
  if (result.rows !== ROWS || result.bytes !== bytes) throw new Error('row or byte count is off')
  return bytes
}

/** The same export through the parts: Kylin JSON source → rows of cells → CSV writer. */
async function parts(chunks: Uint8Array[], encode: 'utf-8' | 'gbk' = 'utf-8'): Promise<number> {
  const { stream, summary } = exportResult(pullStreamOf(chunks), {
    source: { kind: 'kylin-json' },
    format: { kind: 'csv', separator: ',', includeHeader: true },
    fused: false,
    encode,
  })
  const bytes = await drain(stream)
  const result = await summary
  if (result.rows !== ROWS || result.bytes !== bytes) throw new Error('row or byte count is off')
  return bytes
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const chunks = buildBody()
const inputBytes = chunks.reduce((n, c) => n + c.length, 0)
const mb = inputBytes / 1e6
console.log(`body: ${ROWS} rows × 10 columns, ${mb.toFixed(1)} MB in ${chunks.length} chunks`)

// JSON.parse goes last: its ~1 GB of garbage would otherwise be collected during the others.
const gbk = (chunks: Uint8Array[]) => parts(chunks, 'gbk')
const wasm = (chunks: Uint8Array[]) => transcoder(chunks, 'wasm')
const passes = { baseline, transcoder, wasm, parts, gbk, 'JSON.parse + encoder': jsonParse }
const times: Record<string, number> = {}
for (const [name, pass] of Object.entries(passes)) {
  if (ONLY && !ONLY.includes(name)) continue
  const samples: number[] = []
  let output = await pass(chunks) // warm-up (JIT), not counted
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now()
    output = await pass(chunks)
    samples.push((performance.now() - start) / 1000)
  }
  const seconds = median(samples)
  times[name] = seconds
  console.log(
    `${name.padEnd(22)} ${seconds.toFixed(3)} s  ${(mb / seconds).toFixed(0).padStart(5)} MB/s` +
      `  out ${(output / 1e6).toFixed(1)} MB  runs ${samples.map((s) => s.toFixed(3)).join(' ')}`,
  )
}
const base = times.baseline ?? NaN
for (const [name, seconds] of Object.entries(times)) {
  console.log(`${name.padEnd(22)} ${(seconds / base).toFixed(1)}× baseline`)
}
if (times.gbk && times.transcoder) {
  console.log(`gbk / transcoder       ${(times.gbk / times.transcoder).toFixed(1)}× the time`)
}
