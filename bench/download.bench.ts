/**
 * Download benchmark (issue 15): one stored ~80 MB CSV result downloaded again and again from the
 * gateway with node:http, in turn with a plain node:http file server (bench/file-server.mjs)
 * sending the same file, and with another built checkout's gateway when BASE_ROOT names one, so
 * before, after and the baseline see the same noise. Medians, MB/s and the ratio to the baseline.
 * Run: npm run build && [BASE_ROOT=<built checkout>] npm run bench:download (ROWS, RUNS).
 * Node only.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { toResultKey } from '../src/domain/query-id.ts'
import {
  AUTH,
  callGatewayJson,
  log,
  MB,
  median,
  PROJECT,
  prepare,
  querySql,
  ROOT,
  seconds,
  sleep,
  startGateway,
  startUpstream,
  START_TIMEOUT_MS,
  toMarkdownTable,
  type Gateway,
} from './gateway-harness.ts'
import { request } from 'node:http'
import { readCpuMs, spawnChild, type Child } from './processes.ts'
import { writeBenchResults } from './results-file.ts'

const ROWS = Number(process.env.ROWS ?? 1_000_000)
const RUNS = Number(process.env.RUNS ?? 15)
const BASE_ROOT = process.env.BASE_ROOT

interface Server {
  name: string
  /** The download's URL. */
  url: string
  headers: Record<string, string>
  /** The serving process, whose CPU time a download costs. */
  pid: number
  times: number[]
  cpuMs: number[]
}

/** Submit → SUCCESSFUL; the result stays stored, to be downloaded many times. */
async function storeResult(gateway: Gateway): Promise<string> {
  const submitted = await callGatewayJson<{ queryID: string; info: string }>(gateway.ready, '', {
    method: 'POST',
    body: JSON.stringify({ sql: querySql(ROWS), project: PROJECT }),
  })
  if (!submitted.queryID) throw new Error(`gateway refused the submit: ${submitted.info}`)
  for (;;) {
    const { status, info } = await callGatewayJson<{ status: string; info: string }>(
      gateway.ready,
      `/${submitted.queryID}/status`,
    )
    if (status === 'SUCCESSFUL') return submitted.queryID
    if (status !== 'RUNNING') throw new Error(`gateway query ${status}: ${info}`)
    await sleep(50)
  }
}

async function startGatewayWithResult(name: string, dataDir: string, root: string) {
  const gateway = await startGateway(upstream.ready, dataDir, [], root)
  const id = await storeResult(gateway)
  log(`  ${name}: gateway pid ${gateway.pid} at ${gateway.ready}, result ${id}`)
  const server: Server = {
    name,
    url: `${gateway.ready}/kylin/api/async_query/${id}/result_download`,
    headers: { Authorization: AUTH, 'Accept-Encoding': 'identity' },
    pid: gateway.pid,
    times: [],
    cpuMs: [],
  }
  return { gateway, server, file: join(dataDir, toResultKey(id)) }
}

/**
 * A plain node:http GET on a new connection that only counts the bytes: the client shares the
 * machine's two cores with the server, so it does as little as a client can.
 */
function drain(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; bytes: number }>((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      let bytes = 0
      res.on('data', (chunk: Buffer) => void (bytes += chunk.length))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** One download: its wall time, and the CPU time the server spent (10 ms ticks). */
async function download(server: Server, expectedBytes: number) {
  const cpuBefore = readCpuMs(server.pid)
  const started = performance.now()
  const { status, bytes } = await drain(server.url, server.headers)
  const elapsed = seconds(started)
  if (status !== 200 || bytes !== expectedBytes) {
    throw new Error(`${server.name}: ${status}, ${bytes} bytes, expected 200 and ${expectedBytes}`)
  }
  return { elapsed, cpuMs: readCpuMs(server.pid) - cpuBefore }
}

const workDir = mkdtempSync(join(tmpdir(), 'download-bench-'))
const upstream = await startUpstream()
const children: Child[] = []
try {
  const expect = await prepare(upstream.ready, ROWS)
  const servers: Server[] = []
  const own = await startGatewayWithResult('this', mkdtempSync(join(workDir, 'this-')), ROOT)
  children.push(own.gateway)
  servers.push(own.server)
  if (BASE_ROOT) {
    const base = await startGatewayWithResult(
      'base',
      mkdtempSync(join(workDir, 'base-')),
      resolve(BASE_ROOT),
    )
    children.push(base.gateway)
    servers.push(base.server)
  }
  const fileServer = await spawnChild(process.execPath, ['bench/file-server.mjs', own.file], {
    cwd: ROOT,
    match: (line) => /listening on (http:\/\/\S+)/.exec(line)?.[1] ?? null,
    timeoutMs: START_TIMEOUT_MS,
  })
  children.push(fileServer)
  const baseline: Server = {
    name: 'node:http file server',
    url: fileServer.ready,
    headers: {},
    pid: fileServer.pid,
    times: [],
    cpuMs: [],
  }
  servers.push(baseline)

  // One unmeasured round warms the page cache and each server's code.
  for (const server of servers) await download(server, expect.csvBytes)
  for (let run = 0; run < RUNS; run++) {
    // Each run starts with another server, so none always follows the same one.
    const order = servers.map((_, i) => servers[(i + run) % servers.length]!)
    for (const server of order) {
      const { elapsed, cpuMs } = await download(server, expect.csvBytes)
      server.times.push(elapsed)
      server.cpuMs.push(cpuMs)
    }
    log(
      `  run ${run + 1}: ${servers.map((s) => `${s.name} ${s.times.at(-1)!.toFixed(3)} s`).join(', ')}`,
    )
  }

  const rows = servers.map((server) => {
    const ratios = server.times.map((time, run) => time / baseline.times[run]!)
    return {
      name: server.name,
      medianS: median(server.times),
      minS: Math.min(...server.times),
      maxS: Math.max(...server.times),
      mbPerS: expect.csvBytes / MB / median(server.times),
      ratio: median(ratios),
      minRatio: Math.min(...ratios),
      maxRatio: Math.max(...ratios),
      cpuMsPerDownload: server.cpuMs.reduce((sum, ms) => sum + ms, 0) / server.cpuMs.length,
    }
  })
  log(
    `\nDownload of ${(expect.csvBytes / MB).toFixed(1)} MB (${ROWS} rows), ${RUNS} runs: medians` +
      ` and spreads of wall time and of its ratio to the baseline in the same run; the server's` +
      ` CPU time (user + system) per download, averaged over the runs:\n`,
  )
  log(
    toMarkdownTable(
      ['server', 'download s', 'spread s', 'MB/s', '× baseline', 'spread ×', 'server CPU ms'],
      rows.map((row) => [
        row.name,
        row.medianS.toFixed(3),
        `${row.minS.toFixed(3)}–${row.maxS.toFixed(3)}`,
        row.mbPerS.toFixed(0),
        row.ratio.toFixed(2),
        `${row.minRatio.toFixed(2)}–${row.maxRatio.toFixed(2)}`,
        row.cpuMsPerDownload.toFixed(0),
      ]),
    ),
  )
  const file = writeBenchResults('download', {
    rows: ROWS,
    bytes: expect.csvBytes,
    runs: RUNS,
    servers: rows,
  })
  log(`\nfigures written to ${file}`)
} finally {
  for (const child of children) await child.stop()
  await upstream.stop()
  rmSync(workDir, { recursive: true, force: true })
}
