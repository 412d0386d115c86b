/**
 * The gateway's Worker with the fused kernel's fast path taken from the `KYLIN_CSV_KERNEL`
 * binding (js or wasm), for bench/kernel-export-workerd.bench.ts. Set on each request, so it
 * holds for the Durable Objects of the same isolate, as in Miniflare. Workers.
 */
import type { ExecutionContext } from '@cloudflare/workers-types'
import { preferKylinCsvKernel } from '../../src/export/kylin-csv/kernel-choice.ts'
import kylinCsvRows from '../../src/export/kylin-csv/wasm/kylin-csv-rows.wasm'
import { provideRowsModule } from '../../src/export/kylin-csv/wasm/rows-module.ts'
import worker from '../../src/runtime/workers/worker.ts'
import type { WorkerEnv } from '../../src/runtime/workers/deps.ts'

export { LimiterObject, QueryObject } from '../../src/runtime/workers/worker.ts'

// Workers cannot compile WebAssembly bytes at run time: the fast path gets the module wrangler
// bundled from the .wasm file (the gateway's own Worker keeps the JS path and bundles none).
provideRowsModule(kylinCsvRows)

export default {
  fetch(request: Request, env: WorkerEnv & { KYLIN_CSV_KERNEL: string }, ctx: ExecutionContext) {
    preferKylinCsvKernel(env.KYLIN_CSV_KERNEL === 'wasm' ? 'wasm' : 'js')
    return worker.fetch(request, env, ctx)
  },
}
