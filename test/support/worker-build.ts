/** Builds the Worker bundle exactly as `wrangler deploy` would upload it, for workerd tests. */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'

const ROOT = join(import.meta.dirname, '..', '..')

/** Bundles into `outdir` (no network needed); returns the bundle's path. */
export async function buildWorker(outdir: string): Promise<string> {
  await promisify(execFile)(
    process.execPath,
    [
      join(ROOT, 'node_modules/wrangler/bin/wrangler.js'),
      'deploy',
      '--dry-run',
      '--outdir',
      outdir,
    ],
    { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' } },
  )
  return join(outdir, 'worker.js')
}
