/** Kylin's DATE and TIMESTAMP texts as Excel's own date serials (1900 date system). Portable. */
import { describe, expect, it } from 'vitest'
import { toExcelDate, toExcelTimestamp } from '../../../../src/export/writers/xlsx/excel-date.ts'

describe('export/writers/xlsx/excel-date', () => {
  it("gives Excel's serials, its fictitious 1900-02-29 counted", () => {
    expect(toExcelDate('1900-01-01')).toBe(1)
    expect(toExcelDate('1900-02-28')).toBe(59)
    // Serial 60 is 1900-02-29, a day that never was; no text gives it.
    expect(toExcelDate('1900-02-29')).toBeNull()
    expect(toExcelDate('1900-03-01')).toBe(61)
    expect(toExcelDate('1970-01-01')).toBe(25569)
    expect(toExcelDate('2012-01-01')).toBe(40909)
    expect(toExcelDate('2012-02-29')).toBe(40968)
    expect(toExcelDate('9999-12-31')).toBe(2958465)
  })

  it('gives null for a text that is no date Excel can show', () => {
    for (const text of ['1899-12-31', '2013-02-29', '2012-13-01', '2012-00-10', '2012-01-00']) {
      expect(toExcelDate(text)).toBeNull()
    }
    for (const text of [
      '2012-1-1',
      '12012-01-01',
      '2012-01-01 ',
      ' 2012-01-01',
      '2012/01/01',
      '',
    ]) {
      expect(toExcelDate(text)).toBeNull()
    }
  })

  it('gives timestamps as day and fraction of a day, milliseconds kept', () => {
    expect(toExcelTimestamp('2012-01-01 12:00:00')).toEqual({ serial: 40909.5, millis: false })
    expect(toExcelTimestamp('2012-01-01T06:00:00.0')).toEqual({ serial: 40909.25, millis: false })
    expect(toExcelTimestamp('1900-01-01 00:00:00.000000')).toEqual({ serial: 1, millis: false })
    const withMillis = toExcelTimestamp('2012-01-01 00:00:00.5')
    expect(withMillis).toEqual({ serial: 40909 + 0.5 / 86400, millis: true })
    expect(toExcelTimestamp('2012-01-01 23:59:59.999')!.serial).toBeLessThan(40910)
  })

  it('gives null for a timestamp finer than milliseconds or out of range', () => {
    for (const text of [
      '2012-01-01 10:11:12.0001',
      '2012-01-01 24:00:00',
      '2012-01-01 10:60:00',
      '2012-01-01 10:11:60',
      '2012-01-01 10:11',
      '2012-01-01',
      '2013-02-29 00:00:00',
      '2012-01-01 10:11:12.',
    ]) {
      expect(toExcelTimestamp(text)).toBeNull()
    }
  })
})
