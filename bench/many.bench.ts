/**
 * Many at once: MANY_EXPORTS (default 8) CSV exports of MANY_ROWS (default 1M) rows submitted
 * together to one compiled gateway, against one single export in the same run: aggregate MB/s,
 * wall time as a ratio to the single export, the gateway's peak RSS. Bench only, Node only.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Expectation } from './dataset.ts'
import {
  describeError,
  exportThroughGateway,
  log,
  MB,
  median,
  pool,
  prepare,
  renewPool,
  startGateway,
  startUpstream,
  toMarkdownTable,
  type Gateway,
  type GatewayRun,
} from './gateway-harness.ts'
import { readCpuMs, readMemory } from './processes.ts'
import { writeBenchResults } from './results-file.ts'

const POLL_MS = 20
const EXPORTS = Number(process.env.MANY_EXPORTS ?? 8)
const ROWS = Number(process.env.MANY_ROWS ?? 1_000_000)
/** Single exports (after one warm-up) before the concurrent one; their median is the baseline. */
const SINGLE_RUNS = Number(process.env.MANY_SINGLE_RUNS ?? 3)

interface Round {
  exports: number
  wallS: number
  bytes: number
  mbPerS: number
  /** VmHWM after the round: the gateway's peak so far. */
  peakMiB: number
  rssAfterMiB: number
  /** The gateway's CPU time (all threads) over the round, per export: steadier than wall time. */
  gatewayCpuMsPerExport: number
  /** CPU time of the gateway, the upstream and this process over the round / wall time. */
  coresBusy: number
}

/** CPU ms so far of the gateway, the stand-in upstream and this bench process together. */
function readAllCpuMs(gateway: Gateway, upstreamPid: number): number {
  const own = process.cpuUsage()
  return readCpuMs(gateway.pid) + readCpuMs(upstreamPid) + (own.user + own.system) / 1000
}

/** Every export whole: the bytes downloaded are what file_status said and what the data holds. */
function check(run: GatewayRun, expected: Expectation): void {
  if (run.bytes !== run.fileBytes || run.bytes !== expected.csvBytes) {
    throw new Error(
      `downloaded ${run.bytes} bytes; file_status ${run.fileBytes}, expected ${expected.csvBytes}`,
    )
  }
  if (run.newlines !== expected.csvNewlines) {
    throw new Error(`downloaded ${run.newlines} rows, expected ${expected.csvNewlines}`)
  }
}

/** `count` exports submitted in the same tick; wall time is the slowest one's submit → drained. */
async function exportAtOnce(
  gateway: Gateway,
  upstreamPid: number,
  count: number,
  expected: Expectation,
): Promise<Round> {
  await renewPool()
  const cpuBefore = readCpuMs(gateway.pid)
  const allCpuBefore = readAllCpuMs(gateway, upstreamPid)
  const started = performance.now()
  const runs = await Promise.all(
    Array.from({ length: count }, () => exportThroughGateway(gateway, ROWS, {}, POLL_MS)),
  )
  for (const run of runs) check(run, expected)
  const wallS = Math.max(...runs.map((run) => run.totalS))
  const bytes = runs.reduce((sum, run) => sum + run.bytes, 0)
  const memory = readMemory(gateway.pid)
  const round: Round = {
    exports: count,
    wallS,
    bytes,
    mbPerS: bytes / MB / wallS,
    peakMiB: memory.peakMiB,
    rssAfterMiB: memory.rssMiB,
    gatewayCpuMsPerExport: (readCpuMs(gateway.pid) - cpuBefore) / count,
    coresBusy: (readAllCpuMs(gateway, upstreamPid) - allCpuBefore) / (performance.now() - started),
  }
  log(
    `  ${count} at once: ${wallS.toFixed(2)} s, ${(bytes / MB).toFixed(0)} MB, ` +
      `${round.mbPerS.toFixed(0)} MB/s, peak RSS ${memory.peakMiB.toFixed(0)} MiB, ` +
      `gateway CPU ${round.gatewayCpuMsPerExport.toFixed(0)} ms an export, ` +
      `${round.coresBusy.toFixed(2)} cores busy ` +
      `(SUCCESSFUL after ${runs
        .map((run) => run.readyS)
        .sort((a, b) => a - b)
        .map((s) => s.toFixed(2))
        .join(', ')} s)`,
  )
  return round
}

async function main(): Promise<void> {
  if (![EXPORTS, ROWS, SINGLE_RUNS].every((n) => Number.isSafeInteger(n) && n >= 1)) {
    throw new Error('MANY_EXPORTS, MANY_ROWS and MANY_SINGLE_RUNS must be positive integers')
  }
  log(`many bench: ${EXPORTS} exports of ${ROWS} rows at once; Node ${process.version}`)
  const upstream = await startUpstream()
  const dataDir = mkdtempSync(join(tmpdir(), 'kylin-many-bench-'))
  let gateway: Gateway | undefined
  try {
    const expected = await prepare(upstream.ready, ROWS)
    // npm start's defaults, except room for every export at once: the stand-in upstream has
    // one user, whom the per-user cap (one fewer than the total by default) would hold back.
    const slots = String(Math.max(8, EXPORTS))
    gateway = await startGateway(upstream.ready, dataDir, [
      ...['--max-concurrent-queries', slots, '--max-concurrent-per-user', slots],
    ])
    const startMiB = readMemory(gateway.pid).rssMiB
    // One export first, not counted: the gateway's first one runs before its code is optimised.
    log('  warm-up:')
    await exportAtOnce(gateway, upstream.pid, 1, expected)
    const singles: Round[] = []
    for (let run = 0; run < SINGLE_RUNS; run++) {
      singles.push(await exportAtOnce(gateway, upstream.pid, 1, expected))
    }
    const single = singles.find((r) => r.wallS === median(singles.map((s) => s.wallS)))!
    const singlePeakMiB = readMemory(gateway.pid).peakMiB
    const many = await exportAtOnce(gateway, upstream.pid, EXPORTS, expected)
    const ratio = many.wallS / single.wallS

    log(
      `\nMany at once: submit → poll /status every ${POLL_MS} ms → drain /result_download, on ` +
        `one gateway (npm start, fs store, MAX_CONCURRENT_QUERIES=${slots}); single = median ` +
        `of ${SINGLE_RUNS}; MB/s = CSV bytes downloaded / wall time; peak RSS = VmHWM; ` +
        `gateway CPU = its CPU time (all threads) over the round / exports; cores busy = CPU ` +
        `time of gateway, upstream and bench together / wall time (this machine has ${availableParallelism()}); the gateway ` +
        `started at ${startMiB.toFixed(0)} MiB RSS.\n`,
    )
    const row = (r: Round, peakMiB: number) => [
      String(r.exports),
      String(ROWS),
      (r.bytes / MB).toFixed(0),
      r.wallS.toFixed(2),
      (r.wallS / single.wallS).toFixed(2),
      r.mbPerS.toFixed(0),
      peakMiB.toFixed(0),
      r.gatewayCpuMsPerExport.toFixed(0),
      r.coresBusy.toFixed(2),
    ]
    log(
      toMarkdownTable(
        [
          'exports',
          'rows each',
          'CSV MB',
          'wall s',
          'x single',
          'MB/s',
          'peak RSS MiB',
          'gateway CPU ms / export',
          'cores busy',
        ],
        [row(single, singlePeakMiB), row(many, many.peakMiB)],
      ),
    )
    log(
      `\n${EXPORTS} at once took ${ratio.toFixed(2)} x one export's time ` +
        `(${EXPORTS} x serial would be ${EXPORTS}).`,
    )
    const file = writeBenchResults('many', {
      exports: EXPORTS,
      rows: ROWS,
      pollMs: POLL_MS,
      maxConcurrentQueries: Number(slots),
      startRssMiB: startMiB,
      singles,
      single: { ...single, peakMiB: singlePeakMiB },
      many,
      wallRatioToSingle: ratio,
    })
    log(`written to ${file}`)
  } catch (error) {
    const tail = gateway?.stderrTail().trim()
    throw new Error(`${describeError(error)}${tail ? `\ngateway stderr:\n${tail}` : ''}`)
  } finally {
    await gateway?.stop()
    await pool.destroy()
    await upstream.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
process.exit(0)
