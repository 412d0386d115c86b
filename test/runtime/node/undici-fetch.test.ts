/**
 * createUndiciFetch in a fresh Node process against the loopback fake Kylin: at start only the
 * pool and `request` are loaded, undici's index (its fetch) not until the first pass-through
 * call, which then answers as before; the Kylin calls to a plain-http Kylin go on sockets of
 * their own and never load undici's HTTP parser (its WebAssembly). Node only.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..', '..')

// Runs in the child: the module cache is per process, so this test's own imports do not count.
const SCRIPT = `
import { createRequire } from 'node:module'
import { BASIC, startFakeKylin } from './test/support/fake-kylin.ts'
import { createUndiciFetch } from './src/runtime/node/undici-fetch.ts'

const require = createRequire(import.meta.url)
const index = require.resolve('undici')
const indexLoaded = () => index in require.cache
// Either build of the parser: with SIMD where the CPU has it, plain otherwise.
const parsers = ['llhttp_simd-wasm.js', 'llhttp-wasm.js'].map((file) => require.resolve('undici/lib/llhttp/' + file))
const parserLoaded = () => parsers.some((parser) => parser in require.cache)
const fake = await startFakeKylin()
const undici = createUndiciFetch({ connectTimeoutMs: 2000, headersTimeoutMs: 10000, bodyTimeoutMs: 10000 })
const seen = { atStart: indexLoaded() }
const url = fake.url + '/kylin/api/user/authentication'
const init = { headers: { Authorization: BASIC.ADMIN } }
const byRequest = await undici.kylinFetch(url, init)
Object.assign(seen, { afterKylinFetch: indexLoaded(), parserAfterKylinFetch: parserLoaded(), kylinFetch: [byRequest.status, await byRequest.json()] })
const byFetch = await undici.fetch(url, init)
Object.assign(seen, { afterFetch: indexLoaded(), parserAfterFetch: parserLoaded(), fetch: [byFetch.status, await byFetch.json()] })
await undici.close()
await fake.close()
process.stdout.write(JSON.stringify(seen))
`

describe('createUndiciFetch', () => {
  it("loads undici's fetch on its first call, not before, and answers through it", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', SCRIPT],
      { cwd: ROOT, timeout: 30_000 },
    )
    const seen = JSON.parse(stdout) as Record<string, unknown>

    expect(seen.atStart).toBe(false)
    expect(seen.afterKylinFetch).toBe(false)
    expect(seen.parserAfterKylinFetch).toBe(false)
    expect(seen.parserAfterFetch).toBe(true)
    expect(seen.afterFetch).toBe(true)
    expect(seen.fetch).toEqual(seen.kylinFetch)
    expect(seen.fetch).toEqual([200, expect.objectContaining({ userDetails: expect.anything() })])
  })
})
