/**
 * Export benchmark (issue 3): raw upstream transfer vs naive JSON.parse→CSV vs the real gateway
 * (submit → poll → download), plus the gateway's peak RSS per size. `npm run bench`. Node only.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { constants as bufferConstants } from 'node:buffer'
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { encodeCsvRow, type Cell } from '../src/export/csv/encode.ts'
import type { Expectation } from './dataset.ts'
import {
  describeError,
  toMarkdownTable,
  drainQuery,
  exportThroughGateway,
  log,
  MB,
  median,
  pool,
  postQuery,
  prepare,
  renewPool,
  seconds,
  startGateway,
  startUpstream,
  type Gateway,
} from './gateway-harness.ts'
import { readMemory } from './processes.ts'
import { writeBenchResults } from './results-file.ts'

/** A client's status poll interval while the query runs. */
const POLL_MS = 20
const BENCH_TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 60 * 60_000)
/** Naive holds the body, its string, every cell string and the CSV at once; beyond this, skip. */
const NAIVE_MEMORY_LIMIT = Math.min(4 * 1024 ** 3, getHeapStatistics().heap_size_limit * 0.9)

const TARGET_RATIO_AT_1M = 2.5
/** Issue's goal, in MB (10^6 bytes), at 1M and 5M rows alike. */
const TARGET_PEAK_MB = 120
const MIB_IN_MB = 1.048576

interface SizeResult {
  rows: number
  expect: Expectation
  runs: number
  rawS: number
  naiveS: number | null
  naiveNote: string
  gatewayS: number
  gatewayReadyS: number
  baselineMiB: number
  peakMiB: number
}

// --expose-gc at run time, so `npm run bench` needs no node flags: the naive path leaves ~1 GB
// of garbage that should not be collected in the middle of the next measurement.
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

function parseSizes(): number[] {
  const text = process.env.BENCH_SIZES ?? '100000,1000000,5000000'
  const sizes = text.split(',').map((s) => Number(s.trim().replace(/_/g, '')))
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) {
    throw new Error(`BENCH_SIZES must be positive integers separated by commas, got ${text}`)
  }
  return sizes
}

function runsFor(rows: number): number {
  const override = process.env.BENCH_RUNS
  if (override) {
    const runs = Number(override)
    if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`bad BENCH_RUNS ${override}`)
    return runs
  }
  return rows <= 100_000 ? 5 : 3
}

async function measureRaw(upstreamUrl: string, expect: Expectation): Promise<number> {
  const started = performance.now()
  const { status, bytes } = await drainQuery(upstreamUrl, expect.rows)
  if (status !== 200) throw new Error(`upstream answered ${status}`)
  const elapsed = seconds(started)
  if (bytes !== expect.jsonBytes) {
    throw new Error(`raw: ${bytes} bytes, expected ${expect.jsonBytes}`)
  }
  return elapsed
}

/** Why naive cannot run at this size, or null: V8's string limit, or the memory it needs. */
function naiveSkipReason(expect: Expectation): string | null {
  const maxChars = bufferConstants.MAX_STRING_LENGTH
  if (expect.jsonBytes > maxChars || expect.csvBytes > maxChars) return 'skipped (string limit)'
  // Body bytes + the decoded string (two-byte: the data has non-ASCII) + ~32 B per cell string
  // + ~120 B per row array + the CSV string (two-byte) and its UTF-8 Buffer.
  const estimate =
    expect.jsonBytes * 3 + expect.rows * 10 * 32 + expect.rows * 120 + expect.csvBytes * 3
  return estimate > NAIVE_MEMORY_LIMIT ? 'skipped (memory)' : null
}

async function measureNaive(upstreamUrl: string, expect: Expectation): Promise<number> {
  const started = performance.now()
  const response = await postQuery(upstreamUrl, expect.rows)
  if (!response.ok) throw new Error(`upstream answered ${response.status}`)
  const answer = JSON.parse(await response.text()) as { results: Cell[][] }
  const csv = Buffer.from(answer.results.map((row) => encodeCsvRow(row, ',')).join(''), 'utf8')
  const elapsed = seconds(started)
  if (csv.length !== expect.csvBytes) {
    throw new Error(`naive: ${csv.length} CSV bytes, expected ${expect.csvBytes}`)
  }
  return elapsed
}

/** Submit → poll → drain, verified against the expectation and the log. */
async function measureGateway(
  gateway: Gateway,
  expect: Expectation,
): Promise<{ totalS: number; readyS: number }> {
  const run = await exportThroughGateway(gateway, expect.rows, {}, POLL_MS)
  const loggedRows = gateway.succeededRows.at(-1)
  const problems = [
    run.bytes !== run.fileBytes &&
      `downloaded ${run.bytes} bytes but file_status says ${run.fileBytes}`,
    run.bytes !== expect.csvBytes &&
      `downloaded ${run.bytes} bytes, the reference encoder makes ${expect.csvBytes}`,
    run.newlines !== expect.csvNewlines &&
      `${run.newlines} newlines, expected ${expect.csvNewlines} (${expect.rows} rows)`,
    loggedRows !== undefined &&
      loggedRows !== expect.rows &&
      `gateway logged ${loggedRows} rows, expected ${expect.rows}`,
  ].filter((p): p is string => typeof p === 'string')
  if (problems.length > 0) throw new Error(`gateway result is wrong: ${problems.join('; ')}`)
  return run
}

async function benchSize(upstreamUrl: string, rows: number, workDir: string): Promise<SizeResult> {
  const runs = runsFor(rows)
  log(`\n${rows} rows, ${runs} runs`)
  const expect = await prepare(upstreamUrl, rows)
  const skip = naiveSkipReason(expect)

  // A fresh gateway per size: VmHWM is a lifetime peak, so an old process would carry the last size's.
  const dataDir = mkdtempSync(join(workDir, `gateway-${rows}-`))
  const gateway = await startGateway(upstreamUrl, dataDir)
  try {
    const baseline = readMemory(gateway.pid)
    log(
      `  gateway pid ${gateway.pid} at ${gateway.ready}, RSS after start ${baseline.rssMiB.toFixed(1)} MiB`,
    )
    const raw: number[] = []
    const naive: number[] = []
    const total: number[] = []
    const ready: number[] = []
    for (let run = 1; run <= runs; run++) {
      await renewPool()
      raw.push(await measureRaw(upstreamUrl, expect))
      if (!skip) {
        await renewPool()
        naive.push(await measureNaive(upstreamUrl, expect))
        collectGarbage()
      }
      await renewPool()
      const g = await measureGateway(gateway, expect).catch((error: unknown) => {
        const state = gateway.process.exitCode ?? gateway.process.signalCode
        const tail = gateway.stderrTail().trim()
        throw new Error(
          `${describeError(error)}${state === null ? '' : ` (gateway exited: ${state})`}` +
            `${tail ? `\ngateway stderr:\n${tail}` : ''}`,
        )
      })
      total.push(g.totalS)
      ready.push(g.readyS)
      const memory = readMemory(gateway.pid)
      const naiveText = skip ?? `${naive.at(-1)!.toFixed(2)} s`
      log(
        `  run ${run}: raw ${raw.at(-1)!.toFixed(2)} s, naive ${naiveText}` +
          `, gateway ${g.totalS.toFixed(2)} s (SUCCESSFUL at ${g.readyS.toFixed(2)} s), ` +
          `gateway RSS ${memory.rssMiB.toFixed(0)} MiB, peak ${memory.peakMiB.toFixed(0)} MiB`,
      )
    }
    const peak = readMemory(gateway.pid)
    return {
      rows,
      expect,
      runs,
      rawS: median(raw),
      naiveS: skip ? null : median(naive),
      naiveNote: skip ?? '',
      gatewayS: median(total),
      gatewayReadyS: median(ready),
      baselineMiB: baseline.rssMiB,
      peakMiB: peak.peakMiB,
    }
  } finally {
    await gateway.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

function formatTable(results: SizeResult[]): string {
  const header = [
    'rows',
    'JSON MB',
    'CSV MB',
    'runs',
    'raw s',
    'raw MB/s',
    'naive s',
    'naive MB/s',
    'gateway s',
    'gateway MB/s',
    'gateway/raw',
    'naive/raw',
    'gw RSS start MiB',
    'gw peak RSS MiB',
  ]
  const rows = results.map((r) => {
    const jsonMB = r.expect.jsonBytes / MB
    return [
      String(r.rows),
      jsonMB.toFixed(1),
      (r.expect.csvBytes / MB).toFixed(1),
      String(r.runs),
      r.rawS.toFixed(3),
      (jsonMB / r.rawS).toFixed(0),
      r.naiveS === null ? r.naiveNote : r.naiveS.toFixed(2),
      r.naiveS === null ? '—' : (jsonMB / r.naiveS).toFixed(1),
      r.gatewayS.toFixed(2),
      (jsonMB / r.gatewayS).toFixed(1),
      (r.gatewayS / r.rawS).toFixed(2),
      r.naiveS === null ? '—' : (r.naiveS / r.rawS).toFixed(2),
      r.baselineMiB.toFixed(1),
      r.peakMiB.toFixed(1),
    ]
  })
  return toMarkdownTable(header, rows)
}

function formatTargets(results: SizeResult[]): string[] {
  const at1M = results.find((r) => r.rows === 1_000_000)
  const at5M = results.find((r) => r.rows === 5_000_000)
  const verdict = (met: boolean) => (met ? 'MET' : 'NOT MET')
  const lines = ['Targets (informational; the bench exits 0 either way):']
  if (at1M) {
    const ratio = at1M.gatewayS / at1M.rawS
    lines.push(
      `  gateway/raw <= ${TARGET_RATIO_AT_1M} at 1M rows: ${ratio.toFixed(2)} → ${verdict(ratio <= TARGET_RATIO_AT_1M)}`,
    )
  } else {
    lines.push(
      `  gateway/raw <= ${TARGET_RATIO_AT_1M} at 1M rows: not measured (1000000 not in BENCH_SIZES)`,
    )
  }
  for (const [rows, at] of [
    [1_000_000, at1M],
    [5_000_000, at5M],
  ] as const) {
    const goal = `  gateway peak RSS <= ${TARGET_PEAK_MB} MB at ${rows / 1e6}M rows`
    if (!at) {
      lines.push(`${goal}: not measured (${rows} not in BENCH_SIZES)`)
      continue
    }
    const mb = at.peakMiB * MIB_IN_MB
    lines.push(
      `${goal}: ${at.peakMiB.toFixed(1)} MiB (${mb.toFixed(1)} MB) → ${verdict(mb <= TARGET_PEAK_MB)}`,
    )
  }
  if (results.length > 1) {
    // "Flat": the peak of the largest size within 25% of the smallest size's peak.
    const sorted = [...results].sort((a, b) => a.rows - b.rows)
    const first = sorted[0]!
    const last = sorted.at(-1)!
    const growth = last.peakMiB / first.peakMiB
    lines.push(
      `  peak RSS flat as rows grow (${last.rows} vs ${first.rows} rows within +25%): ` +
        `${first.peakMiB.toFixed(1)} → ${last.peakMiB.toFixed(1)} MiB (×${growth.toFixed(2)}) → ${verdict(growth <= 1.25)}`,
    )
  }
  return lines
}

async function main(): Promise<void> {
  const sizes = parseSizes()
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: gave up after ${BENCH_TIMEOUT_MS} ms (BENCH_TIMEOUT_MS)\n`)
    process.exit(1)
  }, BENCH_TIMEOUT_MS)
  watchdog.unref()

  const workDir = mkdtempSync(join(tmpdir(), 'kylin-export-bench-'))
  process.on('exit', () => rmSync(workDir, { recursive: true, force: true }))
  log(
    `export bench: sizes ${sizes.join(', ')}; Node ${process.version}; ` +
      `naive memory limit ${(NAIVE_MEMORY_LIMIT / 1024 ** 3).toFixed(1)} GiB`,
  )
  const upstream = await startUpstream()
  const results: SizeResult[] = []
  try {
    log(`upstream pid ${upstream.pid} at ${upstream.ready}`)
    for (const rows of sizes) results.push(await benchSize(upstream.ready, rows, workDir))
  } finally {
    await pool.destroy()
    await upstream.stop()
    rmSync(workDir, { recursive: true, force: true })
  }

  log(
    '\nExport: medians; MB = 10^6 bytes of upstream JSON; RSS from /proc/<pid>/status (VmRSS, VmHWM).',
  )
  log(
    'raw = the upstream body drained with node:http; naive = fetch + JSON.parse + encodeCsvRow join;',
  )
  log(
    'gateway = submit → poll /status every 20 ms → drain /result_download with node:http (separate process, fs store).\n',
  )
  log(formatTable(results))
  log('')
  for (const line of formatTargets(results)) log(line)
  const sizesOut = results.map(({ expect, ...rest }) => ({
    ...rest,
    jsonBytes: expect.jsonBytes,
    csvBytes: expect.csvBytes,
  }))
  log(`\nwritten to ${writeBenchResults('export', { sizes: sizesOut })}`)
}

try {
  await main()
} catch (error) {
  process.stderr.write(`bench failed: ${describeError(error)}\n${(error as Error).stack ?? ''}\n`)
  process.exitCode = 1
}
