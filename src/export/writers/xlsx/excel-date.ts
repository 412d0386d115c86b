/**
 * Kylin's DATE and TIMESTAMP texts as Excel date serials (the 1900 date system, with its fictitious
 * 1900-02-29); a text that is not a valid date Excel can show gives null and stays text. Portable.
 */

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/
const TIMESTAMP_TEXT = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/
const DAY_MS = 86_400_000
/** Serial 0 in Excel's count, as far as the count is true (from 1900-03-01 on). */
const EPOCH_MS = Date.UTC(1899, 11, 30)
/** 1900-03-01: before it Excel counts the 1900-02-29 that never was, so real days are one less. */
const FIRST_TRUE_SERIAL = 61

/** An Excel timestamp: its serial, and whether it has milliseconds to show. */
export interface ExcelTimestamp {
  serial: number
  millis: boolean
}

/** `2012-01-01` → 40909; null when the text is no date between 1900-01-01 and 9999-12-31. */
export function toExcelDate(text: string): number | null {
  const m = DATE_TEXT.exec(text)
  return m ? toDaySerial(Number(m[1]), Number(m[2]), Number(m[3])) : null
}

/**
 * `2012-01-01 10:11:12` (also with `T`, and a fraction of a second) → its serial. A fraction finer
 * than milliseconds with other digits than zeros gives null: Excel holds no more, and a rounded
 * time would be a silent change.
 */
export function toExcelTimestamp(text: string): ExcelTimestamp | null {
  const m = TIMESTAMP_TEXT.exec(text)
  if (!m) return null
  const days = toDaySerial(Number(m[1]), Number(m[2]), Number(m[3]))
  const hours = Number(m[4])
  const minutes = Number(m[5])
  const seconds = Number(m[6])
  const fraction = m[7] ?? ''
  if (days === null || hours > 23 || minutes > 59 || seconds > 59) return null
  if (/[1-9]/.test(fraction.slice(3))) return null
  const millis = Number(fraction.slice(0, 3).padEnd(3, '0'))
  const ms = ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis
  return { serial: days + ms / DAY_MS, millis: millis !== 0 }
}

function toDaySerial(year: number, month: number, day: number): number | null {
  if (year < 1900 || year > 9999 || month < 1 || month > 12 || day < 1) return null
  const ms = Date.UTC(year, month - 1, day)
  // Date.UTC rolls an impossible day (02-30) into the next month; such a text is no date.
  if (new Date(ms).getUTCDate() !== day) return null
  const days = (ms - EPOCH_MS) / DAY_MS
  return days < FIRST_TRUE_SERIAL ? days - 1 : days
}
