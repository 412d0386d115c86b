/**
 * fast-check arbitraries of text GBK can hold: ASCII (CSV and JSON specials included), Chinese,
 * the euro sign and other non-ASCII characters of GBK. Portable.
 */
import fc from 'fast-check'

/** Characters that stress CSV quoting, JSON escaping and GBK's one- and two-byte codes. */
export const gbkSpecial = fc.constantFrom(
  ',',
  ';',
  '"',
  '\n',
  '\r',
  '\t',
  '\\',
  '/',
  ' ',
  'a',
  '\u0000',
  '\u007f',
  '€',
  '，',
  '；',
  '“',
  '”',
  '、',
  '。',
  '·',
  '—',
  'é',
  'ü',
  'α',
  'Ж',
  'ア',
  '東',
  '京',
  '中',
  '文',
)

/** A character GBK holds: special, printable ASCII, or any CJK ideograph of GB 13000 (GBK). */
export const gbkUnit = fc.oneof(
  gbkSpecial,
  fc.string({ minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0x4e00, max: 0x9fa5 }).map((u) => String.fromCharCode(u)),
)

export const gbkText = (maxLength: number) => fc.string({ unit: gbkUnit, maxLength })
