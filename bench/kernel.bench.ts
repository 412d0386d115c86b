/**
 * The fused kernel's fast paths end to end on Node: two compiled gateways, one with the JS fast
 * path and one with the WebAssembly one (CSV_KERNEL), take the same export in
 * turn (submit → SUCCESSFUL → download of 1M Kylin-shaped rows), alternating which goes first, so
 * both see the same noise.
 * Run: npm run build && npx tsx bench/kernel.bench.ts (ROWS=…, RUNS=…). Node only.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { prepare, startGateway, startUpstream, type Gateway } from './gateway-harness.ts'
import { compareExports } from './kernel-compare.ts'

const ROWS = Number(process.env.ROWS ?? 1_000_000)
const RUNS = Number(process.env.RUNS ?? 7)

const workDir = mkdtempSync(join(tmpdir(), 'kernel-bench-'))
const upstream = await startUpstream()
const gateways: Record<string, Gateway> = {}
try {
  const expect = await prepare(upstream.ready, ROWS)
  for (const kernel of ['js', 'wasm']) {
    gateways[kernel] = await startGateway(upstream.ready, mkdtempSync(join(workDir, kernel)), [
      '--csv-kernel',
      kernel,
    ])
  }
  await compareExports(gateways, expect, RUNS)
} finally {
  for (const gateway of Object.values(gateways)) await gateway.stop()
  await upstream.stop()
  rmSync(workDir, { recursive: true, force: true })
}
