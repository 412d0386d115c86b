/**
 * The fused kernel's fast paths end to end inside workerd: the gateway's Worker as wrangler
 * bundles it (bench/workerd/kernel-worker.ts picks the fast path), run twice in Miniflare with
 * local R2 and Durable Objects, once per fast path, take the same export from the bench upstream
 * in turn (submit → SUCCESSFUL → download).
 * Run: npx tsx bench/kernel-export-workerd.bench.ts (ROWS=…, RUNS=…).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { buildWorker, toWorkerOptions } from '../test/support/worker-build.ts'
import { ROOT, prepare, startUpstream } from './gateway-harness.ts'
import { compareExports } from './kernel-compare.ts'

const ROWS = Number(process.env.ROWS ?? 1_000_000)
const RUNS = Number(process.env.RUNS ?? 5)

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
  const config = await writeConfig(workDir, 'bench/workerd/kernel-worker.ts')
  const scriptPath = await buildWorker(join(workDir, 'dist'), config)
  for (const name of ['js', 'wasm']) {
    const mf = new Miniflare(
      toWorkerOptions(scriptPath, {
        KYLIN_UPSTREAM_URL: upstream.ready,
        RESULTS_BUCKET_NAME: 'kylin-async-results',
        LOG_LEVEL: 'warn',
        KYLIN_CSV_KERNEL: name,
      }),
    )
    workers[name] = { mf, url: (await mf.ready).toString().replace(/\/$/, '') }
  }
  await compareExports(
    Object.fromEntries(Object.entries(workers).map(([name, w]) => [name, { ready: w.url }])),
    expect,
    RUNS,
  )
} finally {
  for (const { mf } of Object.values(workers)) await mf.dispose()
  await upstream.stop()
  await rm(workDir, { recursive: true, force: true })
}
