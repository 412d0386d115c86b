/**
 * GBK as its readers take it (CP936 with the euro sign at 0x80: iconv-lite, Windows, WHATWG):
 * the GBK code of each character, or none. Codes come from @exodus/bytes' WHATWG gbk encoder
 * (no Buffer needed), asked once per character and kept. Portable.
 */
import { createMultibyteEncoder } from '@exodus/bytes/multi-byte.js'
import { GatewayError } from '../../errors.ts'

/**
 * Since GB18030-2022, WHATWG's gbk writes these 18 characters as bytes that CP936 readers
 * (iconv-lite, Windows) read as private-use characters, so they are refused rather than changed.
 */
const READ_AS_PRIVATE_USE = /[\u9fb4-\u9fbb\ufe10-\ufe19]/

const NON_ASCII = /[^\x00-\x7f]/
/** From this length on, text is scanned for non-ASCII by NON_ASCII rather than a loop. */
const LONG_TEXT = 64

/** In the table: not asked yet, or no GBK code (no valid code has a 0xFF trail byte). */
export const UNKNOWN = 0
export const NONE = 0xffff

let encoder: ((text: string) => Uint8Array) | undefined
let codes: Uint16Array | undefined

/**
 * Per BMP code unit from 0x80 up: its GBK code (0x80 for €, else two bytes as
 * `lead << 8 | trail`), NONE, or UNKNOWN until `learnGbkCode` asks. A surrogate is NONE: GBK
 * holds nothing past the BMP, and a lone surrogate is no character. Hot loops read it directly.
 */
export function getGbkCodes(): Uint16Array {
  if (codes === undefined) {
    codes = new Uint16Array(0x10000)
    codes.fill(NONE, 0xd800, 0xe000)
  }
  return codes
}

/** Asks the encoder for the code of `unit` (UNKNOWN in the table) and keeps it there. */
export function learnGbkCode(unit: number): number {
  const code = askEncoder(String.fromCharCode(unit))
  getGbkCodes()[unit] = code
  return code
}

function askEncoder(char: string): number {
  if (READ_AS_PRIVATE_USE.test(char)) return NONE
  // Built at first use: its table is about 150 KB of data to unpack.
  encoder ??= createMultibyteEncoder('gbk')
  let bytes: Uint8Array
  try {
    bytes = encoder(char)
  } catch {
    return NONE
  }
  return bytes.length === 1 ? bytes[0]! : (bytes[0]! << 8) | bytes[1]!
}

/** Where the first character of `text` that GBK cannot hold starts, or -1 when it holds all. */
export function findUnwritable(text: string): number {
  // Most text is ASCII, which GBK holds as is. A short cell is passed fastest by this loop, a
  // long text by the native regex scan (measured on Kylin-like cells).
  const length = text.length
  let i = length > LONG_TEXT ? text.search(NON_ASCII) : 0
  if (i < 0) return -1
  for (; i < length; i++) if (text.charCodeAt(i) >= 0x80) return findUnwritableFrom(text, i)
  return -1
}

function findUnwritableFrom(text: string, from: number): number {
  const table = getGbkCodes()
  for (let i = from; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0x80) continue
    const code = table[unit]!
    if (code === NONE || (code === UNKNOWN && learnGbkCode(unit) === NONE)) return i
  }
  return -1
}

/**
 * A failure naming the character by its code point (`U+1F600`), never by the text around it,
 * and where it is (`in row 3, column 2 ("NAME")`).
 */
export function toUnwritableError(point: number, where: string): GatewayError {
  const hex = `U+${point.toString(16).toUpperCase().padStart(4, '0')}`
  const name = point >= 0xd800 && point <= 0xdfff ? `${hex} (a lone surrogate)` : hex
  return new GatewayError(422, {
    text: `The character ${name} ${where} cannot be written in GBK; no result was kept. Ask for UTF-8 instead, or leave the character out.`,
  })
}
