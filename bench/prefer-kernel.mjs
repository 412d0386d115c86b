// Preloaded into the compiled gateway by kernel.bench.ts (node --import ./bench/prefer-kernel.mjs?wasm):
// the fused kernel takes the fast path named after `?`. Fails at start if the WebAssembly one
// cannot be had, so no run is mislabelled.
import { preferKylinCsvKernel } from '../dist/export/kylin-csv/kernel-choice.js'
import { createRowsKernel } from '../dist/export/kylin-csv/wasm/rows-kernel.js'

const kernel = new URL(import.meta.url).search.slice(1)
if (kernel !== 'js' && kernel !== 'wasm') throw new Error(`no kernel named ${kernel}`)
if (kernel === 'wasm' && createRowsKernel(new Uint8Array([44])) === null) {
  throw new Error('no WebAssembly kernel here')
}
preferKylinCsvKernel(kernel)
