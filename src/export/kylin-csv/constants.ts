/**
 * The fused Kylin JSON → CSV kernel's sizes, row states, byte classes and cell flags.
 * Portable.
 */

export const OUT_SIZE = 64 * 1024
/** At the end of an input chunk the output is flushed only from this size on (no tiny chunks). */
export const MIN_FLUSH = 16 * 1024
/** One cell may grow the output buffer up to this many bytes of CSV. */
export const MAX_CELL_BYTES = 64 * 1024 * 1024

// Row states, inside `results` (the hot part): shared with the Kylin JSON source.
export {
  C_ESC,
  C_ESC_U,
  C_LIT,
  C_STR,
  R_AFTER_ROW,
  R_EXPECT_ROW,
  R_OPEN,
  W_AFTER_CELL,
  W_EXPECT_CELL,
  W_FIRST,
} from '../kylin-json/row-grammar.ts'

// Byte classes inside a string cell; 0 = copy as is.
export const K_COPY = 0
export const K_END = 1
export const K_ESC = 2
export const K_CTRL = 3
export const K_SEP = 4

// Cell flags: what the decoded content holds, to decide on quoting once the cell is complete.
export const F_QUOTE = 1
export const F_CRLF = 2
/** The separator's first byte was written; a multi-byte separator still needs a full match. */
export const F_SEP = 4
/** A lone surrogate became U+FFFD while the separator holds a real U+FFFD (see `lone`). */
export const F_LONE = 8

/** Where `bytes[from, to)` holds `needle` (a separator of 2+ bytes; short cells, so naive), or -1. */
export function indexOfBytes(
  bytes: Uint8Array,
  from: number,
  to: number,
  needle: Uint8Array,
): number {
  const last = to - needle.length
  outer: for (let i = from; i <= last; i++) {
    for (let k = 0; k < needle.length; k++) if (bytes[i + k] !== needle[k]) continue outer
    return i
  }
  return -1
}
