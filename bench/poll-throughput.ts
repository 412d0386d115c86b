/**
 * Status-poll throughput against a bare Hono hello-world: the same autocannon load on each server
 * in turn, for several rounds, with the ratio of each round and their median. Bench only.
 */
import autocannon from 'autocannon'
import { readCpuMs } from './processes.ts'

export interface PollTarget {
  name: string
  /** The URL every request of the run asks for. */
  url: string
  /** The server's process, whose CPU time is read before and after each run. */
  pid: number
}

export interface PollLoad {
  connections: number
  pipelining: number
  durationS: number
  rounds: number
  headers: Record<string, string>
}

export interface PollRun {
  reqPerS: number
  /** Server CPU time (user + system) per answered request. */
  cpuUsPerReq: number
  non2xx: number
  errors: number
}

export interface PollComparison {
  load: Omit<PollLoad, 'headers'>
  baseline: string
  /** Per target: its run in each round, and its ratios to the baseline's run in the same round. */
  targets: Record<
    string,
    {
      runs: PollRun[]
      rateRatios: number[]
      cpuRatios: number[]
      medianReqPerS: number
      medianCpuUsPerReq: number
      /** Median over rounds of (target req/s ÷ baseline req/s), both from the same round. */
      medianRateRatio: number
      /** Median over rounds of (baseline CPU per request ÷ target CPU per request). */
      medianCpuRatio: number
    }
  >
}

/** The load from POLL_CONNECTIONS, POLL_PIPELINING, POLL_SECONDS and POLL_ROUNDS. */
export function readPollLoad(authorization: string): PollLoad {
  const env = process.env
  return {
    connections: Number(env.POLL_CONNECTIONS ?? 50),
    pipelining: Number(env.POLL_PIPELINING ?? 1),
    durationS: Number(env.POLL_SECONDS ?? 5),
    rounds: Number(env.POLL_ROUNDS ?? 7),
    // A real client's poll: the submitter's own credentials, as every async call carries.
    headers: { Authorization: authorization },
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

async function runLoad(target: PollTarget, load: PollLoad, durationS: number): Promise<PollRun> {
  const before = readCpuMs(target.pid)
  const result = await autocannon({
    url: target.url,
    connections: load.connections,
    pipelining: load.pipelining,
    duration: durationS,
    headers: load.headers,
  })
  const cpuMs = readCpuMs(target.pid) - before
  return {
    reqPerS: result.requests.average,
    cpuUsPerReq: (cpuMs * 1000) / Math.max(result.requests.total, 1),
    non2xx: result.non2xx,
    errors: result.errors,
  }
}

/**
 * Runs every target (baseline first in the list) once per round, rotating the order each round so
 * that neither side always runs right after the other; a short warm-up run of each comes first.
 */
export async function comparePollThroughput(
  baseline: PollTarget,
  others: PollTarget[],
  load: PollLoad,
  onRun: (round: number, target: PollTarget, run: PollRun) => void = printRun,
): Promise<PollComparison> {
  const all = [baseline, ...others]
  for (const target of all) await runLoad(target, load, Math.min(2, load.durationS))
  const runs = new Map<string, PollRun[]>(all.map((t) => [t.name, []]))
  for (let round = 0; round < load.rounds; round++) {
    const order = all.map((_, i) => all[(i + round) % all.length]!)
    for (const target of order) {
      const run = await runLoad(target, load, load.durationS)
      runs.get(target.name)!.push(run)
      onRun(round + 1, target, run)
    }
  }
  const base = runs.get(baseline.name)!
  const { headers: _headers, ...shown } = load
  const comparison: PollComparison = { load: shown, baseline: baseline.name, targets: {} }
  for (const target of all) {
    const own = runs.get(target.name)!
    const rateRatios = own.map((run, i) => run.reqPerS / base[i]!.reqPerS)
    const cpuRatios = own.map((run, i) => base[i]!.cpuUsPerReq / run.cpuUsPerReq)
    comparison.targets[target.name] = {
      runs: own,
      rateRatios,
      cpuRatios,
      medianReqPerS: median(own.map((run) => run.reqPerS)),
      medianCpuUsPerReq: median(own.map((run) => run.cpuUsPerReq)),
      medianRateRatio: median(rateRatios),
      medianCpuRatio: median(cpuRatios),
    }
  }
  return comparison
}

function printRun(round: number, target: PollTarget, run: PollRun) {
  console.log(
    `round ${round}: ${target.name} ${run.reqPerS.toFixed(0)} req/s, ` +
      `${run.cpuUsPerReq.toFixed(1)} µs CPU/req, non-2xx ${run.non2xx}, errors ${run.errors}`,
  )
}

/** One line per target: median req/s, CPU per request, and both ratios to the baseline. */
export function formatPollTable(comparison: PollComparison): string {
  const { load } = comparison
  const head = [
    `status polls: autocannon, ${load.connections} connections, pipelining ${load.pipelining}, ` +
      `${load.durationS} s a run, ${load.rounds} rounds (medians; ratio = same-round share of ` +
      `${comparison.baseline}, goal ≥ 0.80)`,
    '',
    '| server | req/s | µs CPU / req | req/s ratio | CPU ratio | ratios by round |',
    '|---|---:|---:|---:|---:|---|',
  ]
  const rows = Object.entries(comparison.targets).map(([name, t]) => {
    const failures = t.runs.reduce((n, run) => n + run.non2xx + run.errors, 0)
    return (
      `| ${name}${failures ? ` (${failures} non-2xx or errors)` : ''} | ` +
      `${t.medianReqPerS.toFixed(0)} | ${t.medianCpuUsPerReq.toFixed(1)} | ` +
      `${t.medianRateRatio.toFixed(2)} | ${t.medianCpuRatio.toFixed(2)} | ` +
      `${t.rateRatios.map((r) => r.toFixed(2)).join(' ')} |`
    )
  })
  return [...head, ...rows].join('\n')
}
