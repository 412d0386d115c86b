/**
 * Byte-level vocabulary of Kylin's `SQLResponse` JSON, shared by the fused CSV kernel and the
 * Kylin JSON source: byte values, escape and hex tables, literals, memory bounds. Portable.
 */

export const MIB = 1024 * 1024
/** The non-`results` members of the object are collected up to this many bytes. */
export const MAX_SIDE_BYTES = 64 * MIB
/** Rows held back because `results` came before `columnMetas`, at most (see the callers). */
export const MAX_HELD_BYTES = 64 * MIB

export const QUOTE = 34
export const BACKSLASH = 92
export const COMMA = 44
export const COLON = 58
export const LF = 10
export const CR = 13
export const LIT_NULL = new Uint8Array([110, 117, 108, 108])
export const LIT_TRUE = new Uint8Array([116, 114, 117, 101])
export const LIT_FALSE = new Uint8Array([102, 97, 108, 115, 101])
/** `null` read as a little-endian 32-bit word. */
export const NULL_WORD = 0x6c6c756e

/** What a byte after `\` decodes to: a byte, -2 for `u` (4 hex digits follow), -1 if invalid. */
export const ESCAPED = new Int16Array(256).fill(-1)
ESCAPED[QUOTE] = QUOTE
ESCAPED[BACKSLASH] = BACKSLASH
ESCAPED[47] = 47 // /
ESCAPED[98] = 8 // b
ESCAPED[102] = 12 // f
ESCAPED[110] = LF // n
ESCAPED[114] = CR // r
ESCAPED[116] = 9 // t
ESCAPED[117] = -2 // u

export const isSpace = (b: number) => b === 32 || b === LF || b === CR || b === 9

/** The high surrogate left pending after an escape decoded to `unit`, or 0. */
export const pendingAfter = (unit: number) => (unit >= 0xd800 && unit <= 0xdbff ? unit : 0)

export function hexValue(b: number): number {
  if (b >= 48 && b <= 57) return b - 48
  const l = b | 32
  if (l >= 97 && l <= 102) return l - 87
  return -1
}

export function describeByte(b: number): string {
  return b >= 33 && b <= 126 ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16)}`
}
