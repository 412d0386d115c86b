/**
 * The GBK table against an independent one (iconv-lite's CP936): on every BMP code point the
 * same bytes, read back to the same character, and the few refusals on purpose. Node (iconv-lite).
 */
import iconv from 'iconv-lite'
import { describe, expect, it } from 'vitest'
import {
  findUnwritable,
  getGbkCodes,
  learnGbkCode,
  NONE,
  toUnwritableError,
  UNKNOWN,
} from '../../../src/export/encoding/gbk.ts'
import { GatewayError } from '../../../src/errors.ts'

/** The code point's GBK bytes by our table, or null. */
function ours(point: number): number[] | null {
  if (point < 0x80) return [point]
  let code = getGbkCodes()[point]!
  if (code === UNKNOWN) code = learnGbkCode(point)
  if (code === NONE) return null
  return code < 0x100 ? [code] : [code >> 8, code & 0xff]
}

/** The code point's bytes by iconv-lite, or null where it writes its `?` for "none". */
function theirs(point: number): number[] | null {
  const bytes = [...iconv.encode(String.fromCharCode(point), 'gbk')]
  return bytes.length === 1 && bytes[0] === 0x3f && point !== 0x3f ? null : bytes
}

/** WHATWG's gbk since GB18030-2022 writes these as bytes iconv-lite reads as private use. */
const REFUSED = [
  ...Array.from({ length: 8 }, (_, i) => 0x9fb4 + i),
  ...Array.from({ length: 10 }, (_, i) => 0xfe10 + i),
]

describe('export/encoding/gbk', () => {
  it('writes every BMP character as iconv-lite does, and iconv-lite reads it back', () => {
    const onlyTheirs: number[] = []
    let writable = 0
    for (let point = 0; point <= 0xffff; point++) {
      if (point >= 0xd800 && point <= 0xdfff) continue
      const a = ours(point)
      const b = theirs(point)
      if (a === null) {
        if (b !== null) onlyTheirs.push(point)
        continue
      }
      writable++
      expect(a, `U+${point.toString(16)}`).toEqual(b)
      const back = iconv.decode(new Uint8Array(a), 'gbk', { stripBOM: false })
      expect(back, `U+${point.toString(16)}`).toBe(String.fromCharCode(point))
    }
    // U+E7C7 only, which iconv-lite writes as 4 bytes of GB18030, not of GBK.
    expect(onlyTheirs).toEqual([0xe7c7])
    expect(writable).toBe(24_067) // ASCII, € and 23,938 two-byte characters
  })

  it('refuses what WHATWG writes as bytes CP936 readers take for private-use characters', () => {
    // 0xFE59 and 0xA6D9: WHATWG's bytes for U+9FB4 and U+FE10 since GB18030-2022.
    for (const [point, bytes] of [
      [0x9fb4, [0xfe, 0x59]],
      [0xfe10, [0xa6, 0xd9]],
    ] as const) {
      const read = iconv.decode(new Uint8Array(bytes), 'gbk').codePointAt(0)!
      expect(read).toBeGreaterThanOrEqual(0xe000)
      expect(read).toBeLessThanOrEqual(0xf8ff)
      expect(String.fromCharCode(point)).not.toBe(String.fromCharCode(read))
    }
    for (const point of REFUSED) expect(ours(point), point.toString(16)).toBeNull()
  })

  it('writes the euro sign as the one byte 0x80, ASCII as itself', () => {
    expect(ours(0x20ac)).toEqual([0x80])
    expect(ours(0x41)).toEqual([0x41])
    expect(ours(0x4e2d)).toEqual([0xd6, 0xd0]) // 中
  })

  it('finds the first character GBK cannot hold, surrogates and astral ones included', () => {
    expect(findUnwritable('')).toBe(-1)
    expect(findUnwritable('plain ASCII, "quoted"\r\n')).toBe(-1)
    expect(findUnwritable('中文€，。“”、é·')).toBe(-1)
    expect(findUnwritable('ab😀')).toBe(2)
    expect(findUnwritable('a\ud800b')).toBe(1)
    expect(findUnwritable('a\udc00')).toBe(1)
    expect(findUnwritable('東京\u9fb4')).toBe(2)
    expect(findUnwritable('x\ufffd')).toBe(1)
    expect(findUnwritable('ok\u0e01')).toBe(2) // Thai
    // Long text takes another scan.
    const long = 'a,b "c"\n'.repeat(20)
    expect(findUnwritable(long)).toBe(-1)
    expect(findUnwritable(long + '中文€' + long)).toBe(-1)
    expect(findUnwritable(long + '中😀' + long)).toBe(long.length + 1)
    expect(findUnwritable(long + '\udfff')).toBe(long.length)
  })

  it('names the code point and never the text around it', () => {
    const error = toUnwritableError(0x1f600, 'in row 3, column 2 ("NAME")')
    expect(error).toBeInstanceOf(GatewayError)
    expect(error.status).toBe(422)
    expect(error.message).toBe(
      'The character U+1F600 in row 3, column 2 ("NAME") cannot be written in GBK; no result was kept. Ask for UTF-8 instead, or leave the character out.',
    )
    expect(toUnwritableError(0xd800, 'in the separator').message).toContain(
      'U+D800 (a lone surrogate) in the separator',
    )
    expect(toUnwritableError(0xe9, 'x').message).toContain('U+00E9')
  })
})
