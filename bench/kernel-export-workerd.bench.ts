/**
 * The fused kernel's fast paths end to end inside workerd: the gateway's Worker as wrangler
 * bundles it, once as it is and once preferring the WebAssembly fast path
 * (bench/workerd/wasm-kernel-worker.ts), each in Miniflare with local R2 and Durable Objects,
 * take the same export from the bench upstream in turn (submit → SUCCESSFUL → download).
 * Run: npx tsx bench/kernel-export-workerd.bench.ts (ROWS=…, RUNS=…).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { buildWorker, toWorkerOptions } from '../test/support/worker-build.ts'
import {
  ROOT,
  exportThroughGateway,
  log,
  median,
  prepare,
  renewPool,
  startUpstream,
  type Gateway,
} from './gateway-harness.ts'

const ROWS = Number(process.env.ROWS ?? 1_000_000)
const RUNS = Number(process.env.RUNS ?? 5)
const POLL_MS = 10

/** wrangler.toml with another entry (paths made absolute: the copy lives elsewhere). */
async function writeConfig(dir: string, main: string): Promise<string> {
  const toml = (await readFile(join(ROOT, 'wrangler.toml'), 'utf8'))
    .replace(/^main = .*$/m, `main = ${JSON.stringify(join(ROOT, main))}`)
    .replace(
      /^directory = "\.\/(.*)"$/m,
      (_, path: string) => `directory = ${JSON.stringify(join(ROOT, path))}`,
    )
  const path = join(dir, 'wrangler.toml')
  await writeFile(path, toml)
  return path
}

const workDir = await mkdtemp(join(tmpdir(), 'kernel-export-workerd-'))
const upstream = await startUpstream()
const workers: Record<string, { mf: Miniflare; url: string }> = {}
try {
  const expect = await prepare(upstream.ready, ROWS)
  const entries = {
    js: 'src/runtime/workers/worker.ts',
    wasm: 'bench/workerd/wasm-kernel-worker.ts',
  }
  for (const [name, main] of Object.entries(entries)) {
    const dir = await mkdtemp(join(workDir, `${name}-`))
    const scriptPath = await buildWorker(join(dir, 'dist'), await writeConfig(dir, main))
    const mf = new Miniflare(
      toWorkerOptions(scriptPath, {
        KYLIN_UPSTREAM_URL: upstream.ready,
        RESULTS_BUCKET_NAME: 'kylin-async-results',
        LOG_LEVEL: 'warn',
      }),
    )
    workers[name] = { mf, url: (await mf.ready).toString().replace(/\/$/, '') }
  }
  const times: Record<string, { total: number[]; ready: number[] }> = {}
  for (let run = 0; run <= RUNS; run++) {
    const order = Object.entries(workers)
    if (run % 2 === 1) order.reverse()
    for (const [name, worker] of order) {
      await renewPool()
      const gateway = { ready: worker.url } as Gateway
      const result = await exportThroughGateway(gateway, ROWS, {}, POLL_MS)
      if (result.bytes !== expect.csvBytes) throw new Error(`${name}: ${result.bytes} bytes`)
      if (run === 0) continue // warm-up, not counted
      const t = (times[name] ??= { total: [], ready: [] })
      t.total.push(result.totalS)
      t.ready.push(result.readyS)
    }
  }
  const mb = expect.jsonBytes / 1e6
  log(
    `workerd: ${ROWS} rows, ${mb.toFixed(1)} MB of JSON → ${(expect.csvBytes / 1e6).toFixed(1)} MB of CSV`,
  )
  for (const [name, t] of Object.entries(times)) {
    const ready = median(t.ready)
    log(
      `${name.padEnd(5)} SUCCESSFUL after ${ready.toFixed(3)} s (${(mb / ready).toFixed(0)} MB/s of` +
        ` JSON), with the download ${median(t.total).toFixed(3)} s;` +
        ` runs ${t.ready.map((s) => s.toFixed(3)).join(' ')}`,
    )
  }
} finally {
  for (const { mf } of Object.values(workers)) await mf.dispose()
  await upstream.stop()
  await rm(workDir, { recursive: true, force: true })
}
