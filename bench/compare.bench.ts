/**
 * Before and after: the same export (submit → SUCCESSFUL → download of 1M Kylin-shaped rows)
 * through this checkout's gateway and another built checkout's, in turn, alternating which goes
 * first, so both see the same noise.
 * Run: npm run build && BASE_ROOT=<built checkout> npx tsx bench/compare.bench.ts (ROWS, RUNS;
 * THIS_SETTINGS / BASE_SETTINGS: more flags for one gateway, e.g. `--export-threads 1`).
 * Node only.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { prepare, startGateway, startUpstream, type Gateway } from './gateway-harness.ts'
import { compareExports } from './kernel-compare.ts'

const ROWS = Number(process.env.ROWS ?? 1_000_000)
const RUNS = Number(process.env.RUNS ?? 7)
const BASE_ROOT = process.env.BASE_ROOT
if (!BASE_ROOT) throw new Error('BASE_ROOT must name a built checkout to compare with')

const workDir = mkdtempSync(join(tmpdir(), 'compare-bench-'))
const upstream = await startUpstream()
const gateways: Record<string, Gateway> = {}
try {
  const expect = await prepare(upstream.ready, ROWS)
  gateways.base = await startGateway(
    upstream.ready,
    mkdtempSync(join(workDir, 'base')),
    toSettings(process.env.BASE_SETTINGS),
    resolve(BASE_ROOT),
  )
  gateways.this = await startGateway(
    upstream.ready,
    mkdtempSync(join(workDir, 'this')),
    toSettings(process.env.THIS_SETTINGS),
  )
  await compareExports(gateways, expect, RUNS)
} finally {
  for (const gateway of Object.values(gateways)) await gateway.stop()
  await upstream.stop()
  rmSync(workDir, { recursive: true, force: true })
}

function toSettings(text: string | undefined): string[] {
  return text ? text.split(' ').filter(Boolean) : []
}
