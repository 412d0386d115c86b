/**
 * Result formats benchmark: the same export (submit → poll → download) in every format the
 * gateway writes, each timed as a ratio to CSV in the same run, with the gateway's peak RSS; a
 * fresh gateway per format and size, so each peak is that format's own. Bench only, Node only.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RESULT_FORMATS } from '../src/domain/query.ts'
import {
  describeError,
  toMarkdownTable,
  exportThroughGateway,
  log,
  MB,
  median,
  pool,
  prepare,
  renewPool,
  startGateway,
  startUpstream,
} from './gateway-harness.ts'
import { readMemory } from './processes.ts'
import { writeBenchResults } from './results-file.ts'

const POLL_MS = 20
const TARGET_PEAK_MIB = 150

interface FormatResult {
  format: string
  rows: number
  runs: number
  seconds: number
  bytes: number
  peakMiB: number
}

function parseList(name: string, fallback: string): string[] {
  return (process.env[name] ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

async function benchFormat(
  upstreamUrl: string,
  format: string,
  rows: number,
  runs: number,
  workDir: string,
): Promise<FormatResult> {
  const dataDir = mkdtempSync(join(workDir, `gateway-${format}-${rows}-`))
  const gateway = await startGateway(upstreamUrl, dataDir)
  try {
    const times: number[] = []
    let bytes = 0
    for (let run = 1; run <= runs; run++) {
      await renewPool()
      const result = await exportThroughGateway(gateway, rows, { format }, POLL_MS)
      if (result.bytes !== result.fileBytes) {
        throw new Error(
          `${format}: downloaded ${result.bytes} bytes, file_status ${result.fileBytes}`,
        )
      }
      if (gateway.succeededRows.at(-1) !== rows) {
        throw new Error(`${format}: gateway logged ${gateway.succeededRows.at(-1)} rows`)
      }
      times.push(result.totalS)
      bytes = result.bytes
      log(
        `  ${format} ${rows} rows, run ${run}: ${result.totalS.toFixed(2)} s, ` +
          `${(result.bytes / MB).toFixed(1)} MB, peak RSS ${readMemory(gateway.pid).peakMiB.toFixed(0)} MiB`,
      )
    }
    return {
      format,
      rows,
      runs,
      seconds: median(times),
      bytes,
      peakMiB: readMemory(gateway.pid).peakMiB,
    }
  } catch (error) {
    const tail = gateway.stderrTail().trim()
    throw new Error(`${describeError(error)}${tail ? `\ngateway stderr:\n${tail}` : ''}`)
  } finally {
    await gateway.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

function formatTable(results: FormatResult[]): string {
  const header = ['format', 'rows', 'runs', 'file MB', 'seconds', 'x CSV', 'peak RSS MiB']
  const rows = results.map((r) => {
    const csv = results.find((c) => c.format === 'csv' && c.rows === r.rows)
    return [
      r.format,
      String(r.rows),
      String(r.runs),
      (r.bytes / MB).toFixed(1),
      r.seconds.toFixed(2),
      csv ? (r.seconds / csv.seconds).toFixed(2) : '—',
      r.peakMiB.toFixed(1),
    ]
  })
  return toMarkdownTable(header, rows)
}

async function main(): Promise<void> {
  const sizes = parseList('BENCH_FORMAT_SIZES', '1000000,5000000').map(Number)
  const formats = parseList('BENCH_FORMATS', RESULT_FORMATS.join(','))
  const runs = Number(process.env.BENCH_FORMAT_RUNS ?? 1)
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1) || !(runs >= 1)) {
    throw new Error('BENCH_FORMAT_SIZES must be positive integers; BENCH_FORMAT_RUNS ≥ 1')
  }
  // CSV first: every other format is a ratio to it.
  const ordered = ['csv', ...formats.filter((f) => f !== 'csv')]
  const workDir = mkdtempSync(join(tmpdir(), 'kylin-formats-bench-'))
  process.on('exit', () => rmSync(workDir, { recursive: true, force: true }))
  log(`formats bench: ${ordered.join(', ')} at ${sizes.join(', ')} rows; Node ${process.version}`)
  const upstream = await startUpstream()
  const results: FormatResult[] = []
  try {
    for (const rows of sizes) {
      await prepare(upstream.ready, rows)
      for (const format of ordered) {
        results.push(await benchFormat(upstream.ready, format, rows, runs, workDir))
      }
    }
  } finally {
    await pool.destroy()
    await upstream.stop()
    rmSync(workDir, { recursive: true, force: true })
  }
  log(
    `\nFormats: submit → poll /status every ${POLL_MS} ms → drain /result_download; a fresh ` +
      'gateway (npm start, fs store) per format and size; medians; x CSV = time / CSV time at ' +
      'that size; peak RSS = VmHWM of the gateway.\n',
  )
  log(formatTable(results))
  const over = results.filter((r) => r.peakMiB > TARGET_PEAK_MIB)
  log(
    `\nTarget peak RSS <= ${TARGET_PEAK_MIB} MB for every format: ` +
      (over.length === 0
        ? 'MET'
        : `NOT MET (${over.map((r) => `${r.format} ${r.rows}: ${r.peakMiB.toFixed(0)}`).join(', ')})`),
  )
  log(`written to ${writeBenchResults('formats', { formats: results })}`)
}

try {
  await main()
} catch (error) {
  process.stderr.write(`bench failed: ${describeError(error)}\n`)
  process.exitCode = 1
}
