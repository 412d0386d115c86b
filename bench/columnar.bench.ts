/**
 * The columnar writers against the CSV writer on the same rows: 1M rows × 10 mixed columns
 * (BIGINT, INTEGER, DECIMAL(19,4), DOUBLE, DATE, TIMESTAMP, BOOLEAN, 3 × VARCHAR) in 1,000-row
 * batches. Each export runs in a plain Node process of its own on the compiled writers
 * (bench/columnar-child.mjs), so its peak RSS (sampled after every batch) is a whole process's.
 * Run: npx tsx bench/columnar.bench.ts   (ROWS=5000000; WRITERS=rows,csv,parquet,arrow;
 * GROUP_SIZES=16384,65536 to compare row-group / record-batch sizes; NODE_FLAGS=… for the
 * children, e.g. --max-old-space-size=48 to see how much of the peak is garbage). Node only.
 */
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const ROWS = Number(process.env.ROWS ?? 1_000_000)
const WRITERS = (process.env.WRITERS ?? 'rows,csv,parquet,arrow').split(',')
const GROUP_SIZES = (process.env.GROUP_SIZES ?? '').split(',').filter(Boolean).map(Number)
const NODE_FLAGS = (process.env.NODE_FLAGS ?? '').split(' ').filter(Boolean)
const TARGET_PEAK_MIB = 150
const MIB = 1024 * 1024

interface Result {
  writer: string
  group: number | null
  ms: number
  /** CPU time (user + system): steadier than wall time on a shared machine. */
  cpuMs: number
  bytes: number
  startRss: number
  peakRss: number
}

function run(command: string, args: string[]): string {
  const child = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 * MIB })
  if (child.status !== 0) throw new Error(`${args.join(' ')} failed:\n${child.stderr}`)
  return child.stdout
}

function runExport(writer: string, group: number | null): Result {
  const args = [...NODE_FLAGS, 'bench/columnar-child.mjs', writer, String(ROWS)]
  if (group !== null) args.push(String(group))
  return JSON.parse(run(process.execPath, args).trim().split('\n').at(-1)!) as Result
}

function main() {
  // The children import dist/, as `npm start` runs the gateway.
  run(process.execPath, [
    join(ROOT, 'node_modules/typescript/bin/tsc'),
    '-p',
    'tsconfig.build.json',
  ])
  const flags = NODE_FLAGS.length > 0 ? `, ${NODE_FLAGS.join(' ')}` : ''
  console.log(`${ROWS.toLocaleString('en')} rows × 10 columns, node ${process.version}${flags}`)
  const runs = WRITERS.flatMap((writer): [string, number | null][] =>
    GROUP_SIZES.length > 0 && /^(parquet|arrow)/.test(writer)
      ? GROUP_SIZES.map((size): [string, number | null] => [writer, size])
      : [[writer, null]],
  )
  const results = runs.map(([writer, group]) => runExport(writer, group))
  const csv = results.find((r) => r.writer === 'csv')
  const header = ['writer', 'group', 'wall s', 'cpu s', 'output MB', 'MB/s (cpu)', 'rows/s (cpu)']
  header.push('cpu÷csv', 'size÷csv', 'start RSS MiB', 'peak RSS MiB')
  const table = results.map((r) => {
    const cpuSeconds = r.cpuMs / 1000
    const megabytes = r.bytes / 1e6
    const written = r.writer !== 'rows'
    const vsCsv = (value: number) => (csv && written ? value.toFixed(2) : '-')
    return [
      r.writer,
      String(r.group ?? 'default'),
      (r.ms / 1000).toFixed(2),
      cpuSeconds.toFixed(2),
      megabytes.toFixed(1),
      written ? (megabytes / cpuSeconds).toFixed(1) : '-',
      Math.round(ROWS / cpuSeconds).toLocaleString('en'),
      vsCsv(r.cpuMs / (csv?.cpuMs ?? 1)),
      vsCsv(r.bytes / (csv?.bytes ?? 1)),
      (r.startRss / MIB).toFixed(0),
      (r.peakRss / MIB).toFixed(0),
    ]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)))
  for (const row of [header, ...table]) {
    console.log(
      row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '),
    )
  }
  console.log("rows: making the rows' text alone, which every other line includes.")
  for (const r of results) {
    const peak = r.peakRss / MIB
    const verdict = peak <= TARGET_PEAK_MIB ? 'MET' : 'NOT MET'
    console.log(`peak RSS <= ${TARGET_PEAK_MIB} MiB, ${r.writer} ${r.group ?? ''}: ${verdict}`)
  }
}

main()
