/**
 * Which fast path the fused kernel takes when its options do not say: the JS one unless a
 * runtime or a benchmark prefers the WebAssembly one (wasm-rows.ts). Portable.
 */

export type KylinCsvKernel = 'js' | 'wasm'

let preferred: KylinCsvKernel = 'js'

export function preferKylinCsvKernel(kernel: KylinCsvKernel): void {
  preferred = kernel
}

export function toKylinCsvKernel(asked: KylinCsvKernel | undefined): KylinCsvKernel {
  return asked ?? preferred
}
