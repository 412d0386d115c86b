/**
 * The `node` flags `npm start` gives the gateway, read from a checkout's package.json
 * (`scripts.start`), so a bench runs each tree's gateway as its users do. Bench only, Node only.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** e.g. `['--max-semi-space-size=1']` for `node --max-semi-space-size=1 dist/runtime/node/main.js`. */
export function readStartNodeFlags(root: string): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts?: { start?: string }
  }
  const words = (manifest.scripts?.start ?? '').trim().split(/\s+/)
  const entry = words.indexOf('dist/runtime/node/main.js')
  if (words[0] !== 'node' || entry < 0) {
    throw new Error(
      `${root}/package.json: scripts.start is not "node [flags] dist/runtime/node/main.js"`,
    )
  }
  return words.slice(1, entry)
}
