/**
 * The fused kernel's fast paths inside workerd: the test Worker of
 * test/export/kylin-csv/workerd/ (bundled by wrangler, run by Miniflare) transcodes a body it
 * holds in memory (bench/transcode.bench.ts's rows, 64 KiB chunks) with the JS or the WebAssembly
 * fast path, in turn; each request is timed from outside, as workerd's clocks stand still while
 * a request computes. Run: npx tsx bench/kernel-workerd.bench.ts (ROWS=…, RUNS=…).
 */
import { startTestWorker } from '../test/support/worker-build.ts'

const ROWS = Number(process.env.ROWS ?? 1_000_000)
const RUNS = Number(process.env.RUNS ?? 9)

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const worker = await startTestWorker('test/export/kylin-csv/workerd/wrangler.toml')
const mf = worker.mf
try {
  const run = async (kernel: string) => {
    const started = performance.now()
    const res = await mf.dispatchFetch(`http://bench/bench?kernel=${kernel}&rows=${ROWS}`, {
      method: 'POST',
    })
    const answer = (await res.json()) as { kernel: string; rows: number; bytes: number }
    if (answer.kernel !== kernel || answer.rows !== ROWS) throw new Error(JSON.stringify(answer))
    return (performance.now() - started) / 1000
  }
  await run('js') // makes the body inside the Worker, and warms up both paths
  await run('wasm')
  const times: Record<string, number[]> = { js: [], wasm: [] }
  for (let i = 0; i < RUNS; i++) {
    const order = i % 2 === 0 ? ['js', 'wasm'] : ['wasm', 'js']
    for (const kernel of order) times[kernel]!.push(await run(kernel))
  }
  console.log(`workerd, ${ROWS} rows × 10 columns, ${RUNS} runs each, alternating`)
  for (const [kernel, samples] of Object.entries(times)) {
    console.log(
      `${kernel.padEnd(5)} median ${median(samples).toFixed(3)} s` +
        `  runs ${samples.map((s) => s.toFixed(3)).join(' ')}`,
    )
  }
} finally {
  await worker.stop()
}
