/**
 * The gateway's Worker with the fused kernel's WebAssembly fast path preferred, for
 * bench/kernel-export-workerd.bench.ts to set beside the Worker as it is. Workers.
 */
import { preferKylinCsvKernel } from '../../src/export/kylin-csv/kernel-choice.ts'

export { default, LimiterObject, QueryObject } from '../../src/runtime/workers/worker.ts'

preferKylinCsvKernel('wasm')
