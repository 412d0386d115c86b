/**
 * The slice of the `cloudflare:workers` module the Workers entry uses. Declared here because
 * the full @cloudflare/workers-types globals clash with the DOM types the rest of the code uses.
 */
declare module 'cloudflare:workers' {
  import type { DurableObjectState } from '@cloudflare/workers-types'

  export abstract class DurableObject<Env = unknown> {
    protected ctx: DurableObjectState
    protected env: Env
    constructor(ctx: DurableObjectState, env: Env)
  }
}

/** A `.wasm` file, which wrangler bundles as a compiled module (Workers cannot compile bytes). */
declare module '*.wasm' {
  const module: WebAssembly.Module
  export default module
}
