/** Builds the Worker bundle as `wrangler deploy` would upload it, and runs it in Miniflare. */
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { Miniflare, type MiniflareOptions } from 'miniflare'

const ROOT = join(import.meta.dirname, '..', '..')

/**
 * Bundles into `outdir` (no network needed); returns the bundle's path. `config`: another
 * wrangler.toml than the project's (a test Worker), absolute or relative to the project root.
 */
export async function buildWorker(outdir: string, config?: string): Promise<string> {
  await promisify(execFile)(
    process.execPath,
    [
      join(ROOT, 'node_modules/wrangler/bin/wrangler.js'),
      'deploy',
      '--dry-run',
      '--outdir',
      outdir,
      ...(config ? ['--config', resolve(ROOT, config)] : []),
    ],
    { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' } },
  )
  // Named after the entry: worker.js for the project's own.
  const bundle = (await readdir(outdir)).find((name) => name.endsWith('.js'))
  return join(outdir, bundle ?? 'worker.js')
}

/** wrangler writes a bundle's .wasm files beside it; workerd loads them as compiled modules. */
export const WASM_MODULE_RULES: MiniflareOptions['modulesRules'] = [
  { type: 'CompiledWasm', include: ['**/*.wasm'] },
]

/**
 * Miniflare options that run the bundle as wrangler.toml declares it (R2 `RESULTS`, Durable
 * Object `QUERIES`) on an ephemeral loopback port, with `bindings` as Worker vars.
 */
export function toWorkerOptions(
  scriptPath: string,
  bindings: Record<string, string>,
): MiniflareOptions {
  return {
    modules: true,
    scriptPath,
    // Module names are taken relative to this root; the default (cwd) would put them outside it.
    modulesRoot: dirname(scriptPath),
    modulesRules: WASM_MODULE_RULES,
    compatibilityDate: '2026-04-20',
    // As wrangler.toml: a client that goes away aborts its request's signal.
    compatibilityFlags: ['enable_request_signal'],
    cf: false,
    host: '127.0.0.1',
    port: 0,
    r2Buckets: ['RESULTS'],
    durableObjects: {
      QUERIES: { className: 'QueryObject', useSQLite: true },
      LIMITER: { className: 'LimiterObject', useSQLite: true },
    },
    bindings,
  }
}

/**
 * A test Worker (its own wrangler.toml, relative to the project root) bundled and running in
 * Miniflare on an ephemeral loopback port; `stop` disposes of it and its bundle.
 */
export async function startTestWorker(config: string) {
  const outdir = await mkdtemp(join(tmpdir(), 'test-worker-'))
  try {
    const mf = new Miniflare({
      modules: true,
      scriptPath: await buildWorker(outdir, config),
      modulesRoot: outdir,
      modulesRules: WASM_MODULE_RULES,
      compatibilityDate: '2026-04-20',
      host: '127.0.0.1',
      port: 0,
    })
    const url = (await mf.ready).toString().replace(/\/$/, '')
    const stop = async () => {
      await mf.dispose()
      await rm(outdir, { recursive: true, force: true })
    }
    return { mf, url, stop }
  } catch (error) {
    await rm(outdir, { recursive: true, force: true })
    throw error
  }
}
