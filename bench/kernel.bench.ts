/**
 * The fused kernel's fast paths end to end on Node: two compiled gateways, one with the JS fast
 * path and one with the WebAssembly one (bench/prefer-wasm-kernel.mjs), take the same export in
 * turn (submit → SUCCESSFUL → download of 1M Kylin-shaped rows), alternating which goes first, so
 * both see the same noise.
 * Run: npm run build && npx tsx bench/kernel.bench.ts (ROWS=…, RUNS=…). Node only.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  exportThroughGateway,
  log,
  median,
  prepare,
  renewPool,
  startGateway,
  startUpstream,
  type Gateway,
} from './gateway-harness.ts'

const ROWS = Number(process.env.ROWS ?? 1_000_000)
const RUNS = Number(process.env.RUNS ?? 7)
const POLL_MS = 10

const workDir = mkdtempSync(join(tmpdir(), 'kernel-bench-'))
const upstream = await startUpstream()
const gateways: Record<string, Gateway> = {}
try {
  const expect = await prepare(upstream.ready, ROWS)
  gateways.js = await startGateway(upstream.ready, mkdtempSync(join(workDir, 'js-')))
  gateways.wasm = await startGateway(upstream.ready, mkdtempSync(join(workDir, 'wasm-')), [
    '--import',
    './bench/prefer-wasm-kernel.mjs',
  ])
  const times: Record<string, { total: number[]; ready: number[] }> = {}
  for (let run = 0; run <= RUNS; run++) {
    // Each run in the other order: neither gateway always goes first.
    const order = Object.entries(gateways)
    if (run % 2 === 1) order.reverse()
    for (const [name, gateway] of order) {
      await renewPool()
      const result = await exportThroughGateway(gateway, ROWS, {}, POLL_MS)
      if (result.bytes !== expect.csvBytes) throw new Error(`${name}: ${result.bytes} bytes`)
      if (run === 0) continue // warm-up (JIT), not counted
      const t = (times[name] ??= { total: [], ready: [] })
      t.total.push(result.totalS)
      t.ready.push(result.readyS)
    }
  }
  const mb = expect.jsonBytes / 1e6
  log(`${ROWS} rows, ${mb.toFixed(1)} MB of JSON → ${(expect.csvBytes / 1e6).toFixed(1)} MB of CSV`)
  for (const [name, t] of Object.entries(times)) {
    const ready = median(t.ready)
    log(
      `${name.padEnd(5)} SUCCESSFUL after ${ready.toFixed(3)} s (${(mb / ready).toFixed(0)} MB/s of` +
        ` JSON), with the download ${median(t.total).toFixed(3)} s;` +
        ` runs ${t.ready.map((s) => s.toFixed(3)).join(' ')}`,
    )
  }
} finally {
  for (const gateway of Object.values(gateways)) await gateway.stop()
  await upstream.stop()
  rmSync(workDir, { recursive: true, force: true })
}
