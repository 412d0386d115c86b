/**
 * The WebAssembly fast path inside workerd, bundled by wrangler as the gateway's Worker is (the
 * .wasm imported as a module, since workerd refuses to compile bytes): it is taken, and its CSV
 * is the bytes the JS fast path writes there and on Node.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestWorker } from '../../support/worker-build.ts'
import { response, toBodyOf } from '../kylin-responses.ts'

let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined
let url: string

beforeAll(async () => {
  worker = await startTestWorker('test/export/kylin-csv/workerd/wrangler.toml')
  url = worker.url
}, 120_000)

afterAll(async () => {
  await worker?.stop()
})

async function post(kernel: string, body: string, separator: string, chunk: number) {
  const query = new URLSearchParams({ kernel, separator, chunk: String(chunk) })
  const res = await fetch(`${url}/?${query}`, { method: 'POST', body })
  return { status: res.status, kernel: res.headers.get('x-kernel'), text: await res.text() }
}

describe('export/kylin-csv/wasm-rows in workerd', () => {
  it('takes the WebAssembly fast path and writes the JS bytes', async () => {
    const body = JSON.stringify({
      columnMetas: [{ label: 'A' }, { label: 'B' }],
      results: [
        ['x\u00e9\ud83d\ude00', null, 'q"\\\n', 'a,b'],
        [],
        ['plain text longer than sixteen bytes', '', '東京', null],
      ],
    })
    const wasm = await post('wasm', body, ',', 7)
    const js = await post('js', body, ',', 7)
    expect(wasm.kernel).toBe('wasm')
    expect(js.kernel).toBe('js')
    expect(wasm.text).toBe(js.text)
    expect(wasm.text).toBe(
      'A,B\nxé😀,,"q""\\\n","a,b"\n\nplain text longer than sixteen bytes,,東京,\n',
    )
  })

  it('gives the JS bytes on random SQLResponses and chunk sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        response({ maxRows: 40, maxColumns: 6 }),
        fc.integer({ min: 1, max: 300 }),
        async (r, chunk) => {
          const body = toBodyOf(r)
          const wasm = await post('wasm', body, r.separator, chunk)
          const js = await post('js', body, r.separator, chunk)
          expect(wasm).toEqual({ ...js, kernel: 'wasm' })
        },
      ),
      { numRuns: 40 },
    )
  }, 60_000)
})
