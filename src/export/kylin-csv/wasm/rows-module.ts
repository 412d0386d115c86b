/**
 * The compiled WebAssembly module of the kernel's fast path, one per isolate. Portable: Workers
 * refuse to compile bytes at run time, so their entry hands in the module wrangler bundled from
 * the .wasm file; elsewhere the embedded copy is compiled on first use.
 */
import { KYLIN_CSV_ROWS_WASM } from './kylin-csv-rows-base64.ts'

let provided: WebAssembly.Module | null = null
/** undefined: not tried yet; null: this runtime cannot have it. */
let compiled: WebAssembly.Module | null | undefined

/** For runtimes that load the .wasm file as a module themselves (Workers). */
export function provideRowsModule(module: WebAssembly.Module): void {
  provided = module
}

/** The module, or null where it cannot be had (code generation refused, no SIMD). */
export function loadRowsModule(): WebAssembly.Module | null {
  if (provided !== null) return provided
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(decodeBase64(KYLIN_CSV_ROWS_WASM))
    } catch {
      compiled = null
    }
  }
  return compiled
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}
