// Preloaded into the compiled gateway (node --import) by kernel.bench.ts: the fused kernel takes
// its WebAssembly fast path. Fails at start if the module cannot be had, so no run is mislabelled.
import { preferKylinCsvKernel } from '../dist/export/kylin-csv/kernel-choice.js'
import { createRowsKernel } from '../dist/export/kylin-csv/wasm/rows-kernel.js'

if (createRowsKernel(new Uint8Array([44])) === null) throw new Error('no WebAssembly kernel here')
preferKylinCsvKernel('wasm')
