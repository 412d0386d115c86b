/**
 * Where the benches leave their figures: bench-results/<name>.json (ignored by git), stamped
 * with the time and the Node version. Bench only.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const DIR = join(import.meta.dirname, '..', 'bench-results')

/** Writes `figures` and returns the file's path. */
export function writeBenchResults(name: string, figures: object): string {
  mkdirSync(DIR, { recursive: true })
  const file = join(DIR, `${name}.json`)
  const stamped = { at: new Date().toISOString(), node: process.version, ...figures }
  writeFileSync(file, `${JSON.stringify(stamped, null, 2)}\n`)
  return file
}
