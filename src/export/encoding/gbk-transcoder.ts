/**
 * UTF-8 bytes → GBK bytes, resumable: a character cut between two chunks is held until its last
 * byte comes. ASCII is the same in both, so an all-ASCII chunk is handed back as is. Portable.
 */
import { getGbkCodes, learnGbkCode, NONE, toUnwritableError, UNKNOWN } from './gbk.ts'

export interface GbkTranscoder {
  /**
   * The GBK bytes of the characters `utf8` completes; `last` ends the text. A character GBK
   * cannot hold (a cut or invalid sequence counts as U+FFFD) throws a GatewayError.
   */
  push(utf8: Uint8Array, last?: boolean): Uint8Array
}

const REPLACEMENT = 0xfffd
const WHERE = 'in the result'

export function createGbkTranscoder(): GbkTranscoder {
  /** The start of a character cut by the end of the previous chunk (at most 3 bytes). */
  let held: Uint8Array | null = null
  return {
    push(utf8, last = false) {
      let bytes = utf8
      if (held !== null) {
        bytes = new Uint8Array(held.length + utf8.length)
        bytes.set(held)
        bytes.set(utf8, held.length)
        held = null
      }
      const n = bytes.length
      // Four bytes at a time while no byte has its high bit set (ASCII, the same in GBK).
      const input = new DataView(bytes.buffer, bytes.byteOffset, n)
      let i = 0
      while (i + 4 <= n && (input.getUint32(i) & 0x80808080) === 0) i += 4
      while (i < n && bytes[i]! < 0x80) i++
      if (i === n) return bytes
      const table = getGbkCodes()
      // GBK never takes more bytes than UTF-8: 1 for 1 (ASCII), at most 2 for 2 or 3. So the
      // output never passes the input's place, and a 4-byte write fits where a 4-byte read did.
      const out = new Uint8Array(n)
      const output = new DataView(out.buffer)
      out.set(bytes.subarray(0, i))
      let o = i
      while (i < n) {
        if (i + 4 <= n) {
          const word = input.getUint32(i)
          if ((word & 0x80808080) === 0) {
            output.setUint32(o, word)
            i += 4
            o += 4
            continue
          }
        }
        const b = bytes[i]!
        if (b < 0x80) {
          out[o++] = b
          i++
          continue
        }
        const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1
        if (i + length > n && !last) {
          held = bytes.slice(i)
          break
        }
        const point = decodeAt(bytes, i, length)
        let code = point > 0xffff ? NONE : table[point]!
        if (code === UNKNOWN) code = learnGbkCode(point)
        if (code === NONE) throw toUnwritableError(point, WHERE)
        if (code < 0x100) {
          out[o++] = code
        } else {
          out[o++] = code >> 8
          out[o++] = code & 0xff
        }
        i += length
      }
      return out.subarray(0, o)
    },
  }
}

/** The code point of the `length`-byte sequence at `i`; U+FFFD when it is not one. */
function decodeAt(bytes: Uint8Array, i: number, length: number): number {
  if (length === 1 || i + length > bytes.length) return REPLACEMENT
  let point = bytes[i]! & (0x7f >> length)
  for (let k = 1; k < length; k++) {
    const next = bytes[i + k]!
    if ((next & 0xc0) !== 0x80) return REPLACEMENT
    point = (point << 6) | (next & 0x3f)
  }
  return point
}
