/**
 * Load: 1,000 concurrent submits against an upstream capped by MAX_CONCURRENT_QUERIES=8, with the
 * gateway's RSS before, right after and once idle (memory-settle.ts); the status-poll throughput of
 * the gateway against a bare Hono hello-world (poll-throughput.ts); and a mixed soak with the
 * gateway's RSS sampled every few seconds. Bench only; never a test.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BASIC, startFakeKylin } from '../test/support/fake-kylin.ts'
import { comparePollThroughput, formatPollTable, readPollLoad } from './poll-throughput.ts'
import { preparePolledQuery, startHelloWorld } from './poll-servers.ts'
import { watchSettling } from './memory-settle.ts'
import { readMemory, spawnChild, type Child } from './processes.ts'
import { readStartNodeFlags } from './start-flags.ts'
import { writeBenchResults } from './results-file.ts'

const ROOT = join(import.meta.dirname, '..')
const SUBMITS = Number(process.env.LOAD_SUBMITS ?? 1000)
const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 600)
/** How long the gateway may sit idle after the burst for its RSS to come back. */
const SETTLE_SECONDS = Number(process.env.LOAD_SETTLE_SECONDS ?? 120)
/** The bound: back within 50 MB of the RSS before the burst. */
const SETTLE_BOUND_MB = 50
const PARTS = new Set((process.env.LOAD_PARTS ?? 'burst,polls,soak').split(','))
const USERS = [BASIC.ADMIN, BASIC.ANALYST, BASIC.MODELER]

const mib = (value: number) => value.toFixed(1)

async function startGateway(upstream: string, dataDir: string): Promise<Child> {
  return spawnChild(
    process.execPath,
    [
      ...readStartNodeFlags(ROOT),
      ...(process.env.LOAD_NODE_ARGS ? process.env.LOAD_NODE_ARGS.split(' ') : []),
      'dist/runtime/node/main.js',
      ...['--upstream', upstream, '--port', '0', '--host', '127.0.0.1', '--store', 'fs'],
      ...['--data-dir', dataDir, '--max-concurrent-queries', '8', '--max-concurrent-per-user', '8'],
      ...[
        '--max-queued-queries',
        String(SUBMITS * 2),
        '--log-level',
        process.env.LOAD_LOG_LEVEL ?? 'info',
      ],
    ],
    {
      cwd: ROOT,
      timeoutMs: 30_000,
      match: (line) => /listening on (http:\/\/[^\s,"]+)/.exec(line)?.[1] ?? null,
    },
  )
}

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T
}

async function submit(gateway: string, sql: string, auth: string): Promise<string> {
  const res = await fetch(`${gateway}/kylin/api/async_query`, {
    method: 'POST',
    headers: { Authorization: auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql, project: 'learn_kylin' }),
  })
  if (res.status !== 200) throw new Error(`submit answered ${res.status}: ${await res.text()}`)
  return (await json<{ data: { queryID: string } }>(res)).data.queryID
}

async function statusOf(gateway: string, id: string, auth: string): Promise<string> {
  const res = await fetch(`${gateway}/kylin/api/async_query/${id}/status`, {
    headers: { Authorization: auth },
  })
  return (await json<{ data: { status: string } }>(res)).data.status
}

async function burst(gateway: Child, kylin: Awaited<ReturnType<typeof startFakeKylin>>) {
  const before = readMemory(gateway.pid)
  const started = performance.now()
  const jobs = Array.from({ length: SUBMITS }, (_, i) => ({ auth: USERS[i % USERS.length]! }))
  const ids = await Promise.all(
    jobs.map((job) => submit(gateway.ready, 'select * from rows_200 /* sleep_ms_20 */', job.auth)),
  )
  const submitted = performance.now()
  const pending = new Map(ids.map((id, i) => [id, jobs[i]!.auth]))
  const states = new Map<string, number>()
  while (pending.size > 0 && performance.now() - started < 300_000) {
    const batch = [...pending].slice(0, 100)
    await Promise.all(
      batch.map(async ([id, auth]) => {
        const status = await statusOf(gateway.ready, id, auth)
        if (status !== 'RUNNING') {
          pending.delete(id)
          states.set(status, (states.get(status) ?? 0) + 1)
        }
      }),
    )
  }
  const memory = readMemory(gateway.pid)
  console.log(
    `burst: ${SUBMITS} submits accepted in ${((submitted - started) / 1000).toFixed(2)} s, all ended in ${((performance.now() - started) / 1000).toFixed(2)} s`,
  )
  console.log(
    `  end states: ${JSON.stringify(Object.fromEntries(states))}, still running: ${pending.size}`,
  )
  console.log(`  upstream queries at once, at most: ${kylin.maxInFlight} (cap 8)`)
  console.log(
    `  gateway RSS before ${mib(before.rssMiB)} MiB, now ${mib(memory.rssMiB)} MiB, peak ${mib(memory.peakMiB)} MiB`,
  )
  const settling = await watchSettling(gateway.pid, before.rssMiB, {
    boundMB: SETTLE_BOUND_MB,
    maxSeconds: SETTLE_SECONDS,
    everyMs: 5000,
  })
  console.log(
    `  idle, RSS every 5 s (MiB): ${settling.samples.map(([, rss]) => mib(rss)).join(' ')}`,
  )
  console.log(
    settling.within
      ? `  back within ${SETTLE_BOUND_MB} MB of before after ${settling.withinAfterS} s idle: ${mib(settling.settledMiB)} MiB`
      : `  NOT back within ${SETTLE_BOUND_MB} MB of before after ${SETTLE_SECONDS} s idle: ${mib(settling.settledMiB)} MiB`,
  )
  return {
    submits: SUBMITS,
    acceptedS: (submitted - started) / 1000,
    endStates: Object.fromEntries(states),
    stillRunning: pending.size,
    maxUpstreamAtOnce: kylin.maxInFlight,
    rssBeforeMiB: before.rssMiB,
    rssMiB: memory.rssMiB,
    peakMiB: memory.peakMiB,
    settling,
  }
}

/** Status polls of one SUCCESSFUL query, by its owner, against the hello-world baseline. */
async function polls(gateway: Child, hello: Child) {
  const url = await preparePolledQuery(gateway.ready, BASIC.ANALYST)
  const comparison = await comparePollThroughput(
    { name: 'hello-world', url: `${hello.ready}${new URL(url).pathname}`, pid: hello.pid },
    [{ name: 'gateway', url, pid: gateway.pid }],
    readPollLoad(BASIC.ANALYST),
  )
  console.log(formatPollTable(comparison))
  return comparison
}

async function soak(gateway: Child) {
  const deadline = performance.now() + SOAK_SECONDS * 1000
  const counts = { submits: 0, polls: 0, downloads: 0, deletes: 0, errors: 0 }
  const curve: string[] = []
  const sampler = setInterval(() => {
    const memory = readMemory(gateway.pid)
    curve.push(mib(memory.rssMiB))
  }, 5000)
  const worker = async (n: number) => {
    const auth = USERS[n % USERS.length]!
    while (performance.now() < deadline) {
      try {
        const id = await submit(gateway.ready, `select * from rows_${500 + n * 100}`, auth)
        counts.submits++
        while ((await statusOf(gateway.ready, id, auth)) === 'RUNNING') {
          counts.polls++
          await sleep(10)
        }
        const res = await fetch(`${gateway.ready}/kylin/api/async_query/${id}/result`, {
          headers: { Authorization: auth, 'Accept-Encoding': 'identity' },
        })
        await res.arrayBuffer()
        counts.downloads++
        await fetch(`${gateway.ready}/kylin/api/async_query/${id}`, {
          method: 'DELETE',
          headers: { Authorization: auth },
        })
        counts.deletes++
      } catch {
        counts.errors++
      }
    }
  }
  await Promise.all(Array.from({ length: 20 }, (_, n) => worker(n)))
  clearInterval(sampler)
  const peak = readMemory(gateway.pid).peakMiB
  console.log(`soak: ${SOAK_SECONDS} s of mixed traffic, 20 clients: ${JSON.stringify(counts)}`)
  console.log(`  RSS every 5 s (MiB): ${curve.join(' ')}`)
  console.log(`  peak ${mib(peak)} MiB`)
  return {
    seconds: SOAK_SECONDS,
    clients: 20,
    counts,
    rssEvery5sMiB: curve.map(Number),
    peakMiB: peak,
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const kylin = await startFakeKylin()
const dataDir = mkdtempSync(join(tmpdir(), 'gateway-load-'))
let gateway: Child | undefined
let hello: Child | undefined
try {
  gateway = await startGateway(kylin.url, dataDir)
  hello = await startHelloWorld(ROOT)
  console.log(
    `gateway pid ${gateway.pid}, RSS after start ${mib(readMemory(gateway.pid).rssMiB)} MiB`,
  )
  const figures = {
    ...(PARTS.has('burst') && { burst: await burst(gateway, kylin) }),
    ...(PARTS.has('polls') && { polls: await polls(gateway, hello) }),
    ...(PARTS.has('soak') && { soak: await soak(gateway) }),
  }
  console.log(`written to ${writeBenchResults('load', figures)}`)
} finally {
  await hello?.stop()
  await gateway?.stop()
  await kylin.close()
  rmSync(dataDir, { recursive: true, force: true })
}
process.exit(0)
