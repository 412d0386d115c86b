/** Which fast path the fused kernel takes when its options do not say. Portable. */
import { afterEach, describe, expect, it } from 'vitest'
import {
  preferKylinCsvKernel,
  toKylinCsvKernel,
} from '../../../src/export/kylin-csv/kernel-choice.ts'

afterEach(() => preferKylinCsvKernel('js'))

describe('export/kylin-csv/kernel-choice', () => {
  it('takes the JS fast path unless told otherwise; an option beats the preference', () => {
    expect(toKylinCsvKernel(undefined)).toBe('js')
    preferKylinCsvKernel('wasm')
    expect(toKylinCsvKernel(undefined)).toBe('wasm')
    expect(toKylinCsvKernel('js')).toBe('js')
  })
})
