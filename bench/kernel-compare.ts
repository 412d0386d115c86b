/**
 * What the kernel benches share: the same export through each gateway in turn (the order
 * alternating, so each sees the same noise), its bytes checked, and the medians reported.
 * Bench only, Node only.
 */
import type { Expectation } from './dataset.ts'
import { exportThroughGateway, log, median, renewPool, type Gateway } from './gateway-harness.ts'

const POLL_MS = 10

/** `runs` counted exports of `expect.rows` rows through each gateway (by name), after a warm-up. */
export async function compareExports(
  gateways: Record<string, Pick<Gateway, 'ready'>>,
  expect: Expectation,
  runs: number,
): Promise<void> {
  const times: Record<string, { total: number[]; ready: number[] }> = {}
  for (let run = 0; run <= runs; run++) {
    const order = Object.entries(gateways)
    if (run % 2 === 1) order.reverse()
    for (const [name, gateway] of order) {
      await renewPool()
      const result = await exportThroughGateway(gateway as Gateway, expect.rows, {}, POLL_MS)
      if (result.bytes !== expect.csvBytes) throw new Error(`${name}: ${result.bytes} bytes`)
      if (run === 0) continue // warm-up (JIT), not counted
      const t = (times[name] ??= { total: [], ready: [] })
      t.total.push(result.totalS)
      t.ready.push(result.readyS)
    }
  }
  const mb = expect.jsonBytes / 1e6
  log(
    `${expect.rows} rows, ${mb.toFixed(1)} MB of JSON → ${(expect.csvBytes / 1e6).toFixed(1)} MB of CSV`,
  )
  for (const [name, t] of Object.entries(times)) {
    const ready = median(t.ready)
    log(
      `${name.padEnd(5)} SUCCESSFUL after ${ready.toFixed(3)} s (${(mb / ready).toFixed(0)} MB/s of` +
        ` JSON), with the download ${median(t.total).toFixed(3)} s;` +
        ` runs ${t.ready.map((s) => s.toFixed(3)).join(' ')}`,
    )
  }
}
