/** CSV_KERNEL: the Node gateway sets the CSV kernel's fast path it is given, WebAssembly by default. */
import { afterEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config/config.ts'
import {
  preferKylinCsvKernel,
  toKylinCsvKernel,
} from '../../../src/export/kylin-csv/kernel-choice.ts'
import { startTestGateway } from './test-gateway.ts'

async function kernelAfterStart(settings: Record<string, string>) {
  const gateway = await startTestGateway(settings)
  await gateway.close()
  return toKylinCsvKernel(undefined)
}

afterEach(() => preferKylinCsvKernel('js'))

describe('runtime/node CSV_KERNEL', () => {
  it('takes the WebAssembly fast path by default', async () => {
    expect(toKylinCsvKernel(undefined)).toBe('js')
    expect(await kernelAfterStart({})).toBe('wasm')
  })

  it('takes the JavaScript one when asked', async () => {
    preferKylinCsvKernel('wasm')
    expect(await kernelAfterStart({ CSV_KERNEL: 'js' })).toBe('js')
  })

  it('refuses any other value, naming the choices', () => {
    expect(() => parseConfig({ KYLIN_UPSTREAM_URL: 'http://k:7070', CSV_KERNEL: 'simd' })).toThrow(
      /CSV_KERNEL \(--csv-kernel\) has a bad value "simd"/,
    )
  })
})
