/**
 * What the gateway benchmarks share: the stand-in upstream and the compiled gateway as child
 * processes, calls to the async API, draining a body, and small helpers. Bench only, Node only.
 */
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Agent, fetch } from 'undici'
import type { Expectation } from './dataset.ts'
import { httpDrain, type Drained } from './http-drain.ts'
import { spawnChild, type Child } from './processes.ts'
import { readStartNodeFlags } from './start-flags.ts'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const AUTH = `Basic ${Buffer.from('ADMIN:KYLIN').toString('base64')}`
export const PROJECT = 'learn_kylin'
export const MB = 1e6
/** No single request, poll loop or child start may hang the bench. */
export const REQUEST_TIMEOUT_MS = 10 * 60_000
export const START_TIMEOUT_MS = 60_000

/*
 * Each measurement gets a fresh connection pool: the naive path blocks the event loop for
 * seconds, servers close idle keep-alive sockets meanwhile, and undici would then reuse a socket
 * whose close it has not seen yet ("other side closed").
 */
export let pool = new Agent()

export async function renewPool(): Promise<void> {
  const old = pool
  pool = new Agent()
  await old.destroy()
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const seconds = (startedMs: number) => (performance.now() - startedMs) / 1000
export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

export async function startUpstream(): Promise<Child> {
  return spawnChild(process.execPath, ['--import', 'tsx', 'bench/upstream-server.ts'], {
    cwd: ROOT,
    match: (line) => /listening on (http:\/\/\S+)/.exec(line)?.[1] ?? null,
    timeoutMs: START_TIMEOUT_MS,
  })
}

export interface Gateway extends Child {
  /** `rows` of each "query succeeded" log line, in order. */
  succeededRows: number[]
}

/**
 * `settings`: more of the gateway's own flags, after the defaults so one given there overrides
 * its default (e.g. `['--csv-kernel', 'js']`); `root`: the built
 * checkout whose gateway runs (another one compares before and after, bench/compare.bench.ts).
 */
export async function startGateway(
  upstreamUrl: string,
  dataDir: string,
  settings: readonly string[] = [],
  root = ROOT,
): Promise<Gateway> {
  const succeededRows: number[] = []
  const child = await spawnChild(
    process.execPath,
    [
      // The node flags of `npm start` in `root`, then BENCH_NODE_ARGS, which may override them,
      // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` or `--max-semi-space-size=16`.
      ...readStartNodeFlags(root),
      ...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : []),
      // The compiled gateway, as `npm start` runs it (the tsx loader alone adds ~40 MB of RSS).
      'dist/runtime/node/main.js',
      ...['--upstream', upstreamUrl, '--port', '0', '--host', '127.0.0.1'],
      ...['--store', 'fs', '--data-dir', dataDir, '--max-concurrent-queries', '4'],
      // info, not warn: the first log line is the only place the ephemeral port is printed.
      ...['--log-level', 'info'],
      ...settings,
    ],
    {
      cwd: root,
      match: (line) =>
        /listening on (http:\/\/[^\s,]+)/.exec(parseLog(line)?.msg ?? '')?.[1] ?? null,
      onLine: (line) => {
        const log = parseLog(line)
        if (log?.msg === 'query succeeded' && typeof log.rows === 'number') {
          succeededRows.push(log.rows)
        }
      },
      timeoutMs: START_TIMEOUT_MS,
    },
  )
  return Object.assign(child, { succeededRows })
}

export function parseLog(line: string): { msg?: string; rows?: unknown } | null {
  if (!line.startsWith('{')) return null
  try {
    return JSON.parse(line) as { msg?: string; rows?: unknown }
  } catch {
    return null
  }
}

export function querySql(rows: number): string {
  return `select * from bench_${rows}`
}

/** The bench query as the stand-in upstream's sync endpoint takes it, uncompressed. */
function toQueryRequest(rows: number) {
  return {
    method: 'POST',
    headers: {
      Authorization: AUTH,
      'Content-Type': 'application/json',
      'Accept-Encoding': 'identity',
    },
    body: JSON.stringify({ sql: querySql(rows), project: PROJECT, offset: 0, limit: 0 }),
  }
}

/** The upstream's sync answer to the bench query, drained with node:http (the raw transfer). */
export function drainQuery(upstreamUrl: string, rows: number): Promise<Drained> {
  return httpDrain(`${upstreamUrl}/kylin/api/query`, toQueryRequest(rows), false)
}

export function postQuery(upstreamUrl: string, rows: number) {
  return fetch(`${upstreamUrl}/kylin/api/query`, {
    ...toQueryRequest(rows),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    dispatcher: pool,
  })
}

export async function callGateway(
  gatewayUrl: string,
  path: string,
  init: { method?: string; body?: string } = {},
) {
  return fetch(`${gatewayUrl}/kylin/api/async_query${path}`, {
    method: init.method ?? 'GET',
    headers: {
      Authorization: AUTH,
      // fetch asks for gzip by default and the gateway honours it; compressing 8 MB then costs
      // ~0.5 s on each side, so the export path is measured uncompressed, as curl fetches it.
      'Accept-Encoding': 'identity',
      ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: init.body }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    dispatcher: pool,
  })
}

export async function callGatewayJson<T>(
  gatewayUrl: string,
  path: string,
  init: { method?: string; body?: string } = {},
): Promise<T> {
  const response = await callGateway(gatewayUrl, path, init)
  const text = await response.text()
  if (!response.ok) throw new Error(`gateway ${path}: ${response.status} ${text.slice(0, 300)}`)
  return (JSON.parse(text) as { data: T }).data
}

export interface GatewayRun {
  totalS: number
  /** When the status said SUCCESSFUL. */
  readyS: number
  bytes: number
  newlines: number
  /** What file_status said. */
  fileBytes: number
}

/**
 * Submit (with extra body fields) → poll status every `pollMs` → drain /result_download, then
 * file_status and a DELETE that frees the disk (not timed).
 */
export async function exportThroughGateway(
  gateway: Gateway,
  rows: number,
  fields: Record<string, unknown>,
  pollMs: number,
): Promise<GatewayRun> {
  const url = gateway.ready
  const started = performance.now()
  const submitted = await callGatewayJson<{ queryID: string; status: string; info: string }>(
    url,
    '',
    { method: 'POST', body: JSON.stringify({ sql: querySql(rows), project: PROJECT, ...fields }) },
  )
  const id = submitted.queryID
  if (!id) throw new Error(`gateway refused the submit: ${submitted.info}`)
  const deadline = Date.now() + REQUEST_TIMEOUT_MS
  for (;;) {
    const status = await callGatewayJson<{ status: string; info: string }>(url, `/${id}/status`)
    if (status.status === 'SUCCESSFUL') break
    if (status.status !== 'RUNNING')
      throw new Error(`gateway query ${status.status}: ${status.info}`)
    if (Date.now() > deadline)
      throw new Error(`gateway query still RUNNING after ${REQUEST_TIMEOUT_MS} ms`)
    await sleep(pollMs)
  }
  const readyS = seconds(started)
  // Drained with node:http, as the raw transfer it is compared with; its lines counted by a
  // second download, after the clock.
  const download = `${url}/kylin/api/async_query/${id}/result_download`
  const headers = { Authorization: AUTH, 'Accept-Encoding': 'identity' }
  const { status, bytes } = await httpDrain(download, { headers }, false)
  if (status !== 200) throw new Error(`gateway download: ${status}`)
  const totalS = seconds(started)
  const checked = await httpDrain(download, { headers })
  if (checked.bytes !== bytes)
    throw new Error(`gateway download: ${checked.bytes} bytes, then ${bytes}`)
  const newlines = checked.newlines
  const fileBytes = await callGatewayJson<number>(url, `/${id}/file_status`)
  await callGatewayJson<boolean>(url, `/${id}`, { method: 'DELETE' })
  return { totalS, readyS, bytes, newlines, fileBytes }
}

export async function prepare(upstreamUrl: string, rows: number): Promise<Expectation> {
  const response = await fetch(`${upstreamUrl}/bench/prepare?rows=${rows}`, {
    method: 'POST',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    dispatcher: pool,
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`upstream prepare: ${response.status} ${text}`)
  const info = JSON.parse(text) as Expectation & { renderMs: number; chunks: number }
  log(
    `  rendered ${rows} rows: ${(info.jsonBytes / MB).toFixed(1)} MB JSON in ${info.chunks} ` +
      `buffers (${(info.renderMs / 1000).toFixed(1)} s), expected CSV ${(info.csvBytes / MB).toFixed(1)} MB`,
  )
  return { rows, jsonBytes: info.jsonBytes, csvBytes: info.csvBytes, csvNewlines: info.csvNewlines }
}

/** fetch hides the useful part ("fetch failed" → cause ECONNRESET …); show the whole chain. */
/** A Markdown table: the first column left-aligned, the others right-aligned. */
export function toMarkdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

export function describeError(error: unknown): string {
  const parts: string[] = []
  for (let e: unknown = error; e !== undefined && parts.length < 5; e = (e as Error).cause) {
    const code = (e as { code?: unknown }).code
    parts.push(`${e instanceof Error ? e.message : String(e)}${code ? ` [${String(code)}]` : ''}`)
    if (!(e instanceof Error)) break
  }
  return parts.join(' ← ')
}

export function log(line: string): void {
  process.stdout.write(`${line}\n`)
}
