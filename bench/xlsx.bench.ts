/**
 * Throughput and memory of the xlsx export against CSV in the same run: `bench_<n>` (1M rows × 10
 * mixed columns: BIGINT, DATE, VARCHAR, DECIMAL, INTEGER) through Kylin JSON source → writer.
 * Run: npx tsx bench/xlsx.bench.ts (ROWS=…, RUNS=…, LEVELS=0,2,6 to compare deflate levels,
 * ONLY=<pass name>). Node; times are medians after a warm-up, RSS is sampled per output chunk.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { toExportStream } from '../src/export/byte-stream.ts'
import { exportResult, type ExportFormat } from '../src/export/export-result.ts'
import { createRowPipeline } from '../src/export/row-pipeline.ts'
import { createKylinJsonSource } from '../src/export/sources/kylin-json.ts'
import type { ResultWriter } from '../src/export/types.ts'
import { createCsvWriter } from '../src/export/writers/csv.ts'
import { createXlsxWriter } from '../src/export/writers/xlsx/writer.ts'
import type { DeflateLevel } from '../src/export/writers/xlsx/zip-stream.ts'
import { pullStreamOf } from '../test/support/streams.ts'
import { renderBody } from './dataset.ts'

const ROWS = Number(process.env.ROWS ?? 1_000_000)
const RUNS = Number(process.env.RUNS ?? 3)
const ONLY = process.env.ONLY
const LEVELS = (process.env.LEVELS ?? '').split(',').filter(Boolean).map(Number) as DeflateLevel[]
const MB = 1e6
const MIB = 1024 * 1024

setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

interface Outcome {
  seconds: number
  outputBytes: number
  peakRss: number
}

/** One export of the body, drained, with the highest RSS seen while its bytes came. */
async function measure(stream: ReadableStream<Uint8Array>): Promise<Outcome> {
  const started = performance.now()
  const reader = stream.getReader()
  let outputBytes = 0
  let peakRss = process.memoryUsage.rss()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    outputBytes += value.length
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
  }
  return { seconds: (performance.now() - started) / 1000, outputBytes, peakRss }
}

/** Source + a writer of our choosing (exportResult does not take a deflate level). */
function throughWriter(chunks: readonly Uint8Array[], writer: () => ResultWriter) {
  return toExportStream(pullStreamOf([...chunks]), (enqueue) =>
    createRowPipeline((sink) => createKylinJsonSource(sink), writer(), {}, enqueue),
  ).stream
}

function throughEntry(chunks: readonly Uint8Array[], format: ExportFormat, fused = true) {
  return exportResult(pullStreamOf([...chunks]), {
    source: { kind: 'kylin-json' },
    format,
    fused,
  }).stream
}

const xlsxAt = (level: DeflateLevel) => (chunks: readonly Uint8Array[]) =>
  throughWriter(chunks, () => createXlsxWriter({ includeHeader: true, level }))

const passes: Record<string, (chunks: readonly Uint8Array[]) => ReadableStream<Uint8Array>> = {
  'csv (fused kernel)': (chunks) =>
    throughEntry(chunks, { kind: 'csv', separator: ',', includeHeader: true }),
  'csv (source + writer)': (chunks) =>
    throughWriter(chunks, () => createCsvWriter({ separator: ',', includeHeader: true })),
  'xlsx (level 1)': (chunks) => throughEntry(chunks, { kind: 'xlsx', includeHeader: true }),
  ...Object.fromEntries(LEVELS.map((level) => [`xlsx level ${level}`, xlsxAt(level)])),
}

const body = renderBody(ROWS)
const chunks: Uint8Array[] = body.chunks
const inputMb = body.jsonBytes / MB
console.log(
  `body: ${ROWS} rows × 10 columns, ${inputMb.toFixed(1)} MB of Kylin JSON in ${chunks.length} chunks`,
)
console.log('pass                      time      in MB/s  out MB  out MB/s  peak RSS  over start')
for (const [name, pass] of Object.entries(passes)) {
  if (ONLY && name !== ONLY) continue
  collectGarbage()
  const startRss = process.memoryUsage.rss()
  await measure(pass(chunks)) // warm-up (JIT), not counted
  const outcomes: Outcome[] = []
  for (let run = 0; run < RUNS; run++) {
    collectGarbage()
    outcomes.push(await measure(pass(chunks)))
  }
  const sorted = [...outcomes].sort((a, b) => a.seconds - b.seconds)
  const median = sorted[Math.floor(sorted.length / 2)]!
  const peak = Math.max(...outcomes.map((o) => o.peakRss))
  const outMb = median.outputBytes / MB
  console.log(
    `${name.padEnd(24)} ${median.seconds.toFixed(2).padStart(6)} s ${(inputMb / median.seconds)
      .toFixed(0)
      .padStart(8)} ${outMb.toFixed(1).padStart(7)} ${(outMb / median.seconds)
      .toFixed(0)
      .padStart(9)} ${(peak / MIB).toFixed(0).padStart(6)} MiB ${((peak - startRss) / MIB)
      .toFixed(0)
      .padStart(6)} MiB`,
  )
}
