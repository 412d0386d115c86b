/**
 * The kernel's hot loop: whole rows of string and null cells inside one input chunk, copied
 * 4 bytes at a time into CSV, with no per-cell state in fields. Portable. Measured: keep it a
 * method of the kernel's class chain (V8 keeps field access monomorphic there).
 */
import * as bytes from '../kylin-json/bytes.ts'
import * as k from './constants.ts'
import { CsvOutput, type TranscodeOptions } from './output.ts'

// Module-local copies, on purpose: V8 reads an imported binding through a cell with a TDZ
// check on every use, and in this loop that measured a few percent (bench/transcode.bench.ts).
const { COMMA, CR, ESCAPED, LF, NULL_WORD, QUOTE, hexValue, isSpace } = bytes
const {
  F_CRLF,
  F_LONE,
  F_QUOTE,
  F_SEP,
  K_COPY,
  K_END,
  K_ESC,
  K_SEP,
  R_AFTER_ROW,
  R_EXPECT_ROW,
  indexOfBytes,
} = k

export class FastRows extends CsvOutput {
  /** A DataView of the current input chunk, for the fast path's 4-byte reads. */
  private inputView: DataView | null = null
  private inputFor: Uint8Array | null = null
  /** The fast path gave up on the current row; the row machine finishes it byte by byte. */
  protected slowRow = false
  /** Output bytes per input byte the fast path may write at most (see `fastRows`). */
  private readonly fastRatio: number
  /**
   * Output bytes the fast path keeps free beyond that budget: a separator is written before its
   * cell's input is read (up to 2 separators ahead of the average), and 4-byte writes overshoot.
   */
  private readonly fastSpare: number

  constructor(options: TranscodeOptions, enqueue: (chunk: Uint8Array) => void) {
    super(options, enqueue)
    this.fastRatio = Math.max(1, (this.sep.length + 2) / 3)
    this.fastSpare = 8 + 2 * this.sep.length
  }

  /**
   * The hot loop, entered between rows: whole rows of string and null cells that lie inside the
   * current chunk, with no per-cell state in fields and no per-byte capacity check. Anything else
   * (a number, a boolean, bad JSON, the end of `results`, a row cut by the chunk's end) rolls the
   * row back and leaves it to the row machine (`slowRow`), which can stop and resume anywhere;
   * the next row comes back here. On 1M Kylin-shaped rows in 64 KiB chunks, all but the ~0.1%
   * of rows cut by a chunk boundary take this path.
   * Capacity: from a row boundary the output grows by at most `fastRatio` bytes per input byte
   * (a non-first cell reads at least `,""` and writes at most the separator and 2 quotes besides
   * its content; no escape decodes to more bytes than it spans), so the input window is cut to
   * what the free output space can take, and nothing is flushed in the middle of a row.
   * Returns the input index reached; `this.state` is then a row-boundary state.
   */
  protected fastRows(buf: Uint8Array, from: number, end: number): number {
    const cls = this.cls
    const sep = this.sep
    const sep0 = this.sep0
    const sepLength = sep.length
    const ratio = this.fastRatio
    let out = this.out
    let pos = this.pos
    let state = this.state
    let rows = this.rows
    const sepWord = Math.imul(sep0, 0x01010101)
    let j = from
    let flushed = false
    let escaped = false
    let input = this.inputView
    if (input === null || this.inputFor !== buf) {
      input = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
      this.inputView = input
      this.inputFor = buf
    }
    window: for (;;) {
      const room = out.length - pos - this.fastSpare
      const limit = (end - j) * ratio <= room ? end : j + Math.floor(room / ratio)
      const limit4 = limit - 4
      const output = new DataView(out.buffer, out.byteOffset, out.byteLength)
      /** Where the current row's output starts: the rollback point. */
      let start = pos
      // Each pass of `rows` ends a row and commits it; `break rows` means the window ended.
      rows: for (;;) {
        let k = j
        let b = 0
        // Between rows: ',' and whitespace are committed at once (they write nothing).
        for (;;) {
          if (k >= limit) {
            j = k
            if (limit === end) break window
            break rows
          }
          b = buf[k]!
          if (b === 91 && state !== R_AFTER_ROW) break
          if (b === COMMA && state === R_AFTER_ROW) {
            state = R_EXPECT_ROW
          } else if (!isSpace(b)) {
            // The end of results, or an error: the state machine tells which.
            j = k
            this.slowRow = true
            break window
          }
          k++
        }
        j = k
        start = pos
        k++
        if (k >= limit) break rows
        b = buf[k]!
        while (b <= 32 && isSpace(b)) {
          if (++k >= limit) break rows
          b = buf[k]!
        }
        if (b !== 93) {
          for (;;) {
            if (b === QUOTE) {
              k++
              let cellStart = pos
              let sepSeen = false
              for (;;) {
                if (k <= limit4) {
                  // Four bytes at a time (SWAR): flag bytes equal to `"`, `\`, the separator's
                  // first byte, or below 0x20. Only the lowest flag is exact (borrows run
                  // upwards), and only it is used. The word is written whole (the output keeps
                  // spare bytes) and `pos` advances to the first flagged byte.
                  const x = input.getInt32(k, true)
                  const q = x ^ 0x22222222
                  const e = x ^ 0x5c5c5c5c
                  const v = x ^ sepWord
                  const m =
                    (((q - 0x01010101) & ~q) |
                      ((e - 0x01010101) & ~e) |
                      ((v - 0x01010101) & ~v) |
                      ((x - 0x20202020) & ~x)) &
                    0x80808080
                  output.setInt32(pos, x, true)
                  if (m === 0) {
                    k += 4
                    pos += 4
                    continue
                  }
                  const skip = (31 - Math.clz32(m & -m)) >> 3
                  k += skip
                  pos += skip
                  // The most common step of all, `","` (end of a plain cell, start of the next),
                  // is taken here without leaving the loop.
                  if (
                    !sepSeen &&
                    k <= limit4 &&
                    (input.getInt32(k, true) & 0xffffff) === 0x222c22
                  ) {
                    k += 3
                    if (sepLength === 1) out[pos++] = sep0
                    else for (let i = 0; i < sepLength; i++) out[pos++] = sep[i]!
                    cellStart = pos
                    continue
                  }
                } else if (k >= limit) {
                  break rows
                }
                b = buf[k]!
                const c = cls[b]!
                if (c === K_COPY) {
                  out[pos++] = b
                  k++
                  continue
                }
                k++
                if (c === K_END) break
                if (c === K_SEP) {
                  sepSeen = true
                  out[pos++] = b
                  continue
                }
                if (c === K_ESC) {
                  // The rest of this cell decodes escapes (and quotes itself if need be).
                  this.pos = pos
                  this.cellStart = cellStart
                  const next = this.fastEscapedString(buf, k, limit, sepSeen ? F_SEP : 0)
                  this.cellStart = -1
                  if (this.out !== out) throw new Error('transcoder: the fast path lost its buffer')
                  if (next === -1) break rows
                  if (next >= 0) {
                    k = next
                    pos = this.pos
                    escaped = true
                    break
                  }
                }
                // A control character or a bad escape: the state machine reports it.
                pos = start
                this.slowRow = true
                break window
              }
              if (escaped) {
                escaped = false
              } else if (
                sepSeen &&
                (sepLength === 1 || indexOfBytes(out, cellStart, pos, sep) >= 0)
              ) {
                // No escapes, so no quotes inside: quoting is a shift by one.
                out.copyWithin(cellStart + 1, cellStart, pos)
                out[cellStart] = QUOTE
                pos++
                out[pos++] = QUOTE
              }
            } else if (b === 110 && k <= limit4) {
              if (input.getInt32(k, true) !== NULL_WORD) {
                pos = start
                this.slowRow = true
                break window
              }
              k += 4
            } else if (b === 110) {
              break rows
            } else {
              pos = start
              this.slowRow = true
              break window
            }
            if (k >= limit) break rows
            b = buf[k]!
            while (b <= 32 && isSpace(b)) {
              if (++k >= limit) break rows
              b = buf[k]!
            }
            if (b === COMMA) {
              k++
              if (sepLength === 1) out[pos++] = sep0
              else for (let i = 0; i < sepLength; i++) out[pos++] = sep[i]!
              if (k >= limit) break rows
              b = buf[k]!
              while (b <= 32 && isSpace(b)) {
                if (++k >= limit) break rows
                b = buf[k]!
              }
              continue
            }
            if (b === 93) break
            pos = start
            this.slowRow = true
            break window
          }
        }
        out[pos++] = LF
        rows++
        j = k + 1
        start = pos
        state = R_AFTER_ROW
        flushed = false
      }
      // The row at j ran into the window's end: roll it back, then make room or go slowly.
      pos = start
      if (this.lone.length !== 0) this.lone = []
      if (limit === end || flushed) {
        this.slowRow = true
        break window
      }
      this.pos = pos
      this.rows = rows
      this.flush()
      out = this.out
      pos = this.pos
      flushed = true
    }
    this.out = out
    this.pos = pos
    this.rows = rows
    this.state = state
    return j
  }

  /**
   * The fast path's decoder for the rest of a string cell after its first `\`, within the window
   * (so no state survives it): the same decoding as the state machine, then the quoting. The
   * output cannot outgrow the window's budget: no escape decodes to more bytes than it spans.
   * Returns the index after the closing quote, -1 when the window ends first, -2 on a control
   * character or a bad escape (the caller rolls the row back; the state machine reports it).
   */
  private fastEscapedString(buf: Uint8Array, from: number, limit: number, flags: number): number {
    const out = this.out
    const cls = this.cls
    const sep0 = this.sep0
    let pos = this.pos
    let k = from
    let high = 0
    for (;;) {
      // k is just after a backslash.
      if (k >= limit) return -1
      let unit = ESCAPED[buf[k++]!]!
      if (unit === -2) {
        if (k + 4 > limit) return -1
        const a = hexValue(buf[k]!)
        const b = hexValue(buf[k + 1]!)
        const c = hexValue(buf[k + 2]!)
        const d = hexValue(buf[k + 3]!)
        if ((a | b | c | d) < 0) return -2
        unit = (a << 12) | (b << 8) | (c << 4) | d
        k += 4
      } else if (unit < 0) {
        return -2
      }
      // writeUnit's work, inline on purpose: as a call it measured ~2% of the whole export.
      const written = pos
      if (high !== 0) {
        if (unit >= 0xdc00 && unit <= 0xdfff) {
          const cp = 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00)
          out[pos++] = 0xf0 | (cp >> 18)
          out[pos++] = 0x80 | ((cp >> 12) & 0x3f)
          out[pos++] = 0x80 | ((cp >> 6) & 0x3f)
          out[pos++] = 0x80 | (cp & 0x3f)
          unit = -1
        } else {
          pos = this.writeLone(pos)
          if (this.sepHasReplacement) flags |= F_LONE
        }
        high = 0
      }
      if (unit >= 0xd800 && unit <= 0xdbff) {
        high = unit
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        pos = this.writeLone(pos)
        if (this.sepHasReplacement) flags |= F_LONE
      } else if (unit >= 0x800) {
        out[pos++] = 0xe0 | (unit >> 12)
        out[pos++] = 0x80 | ((unit >> 6) & 0x3f)
        out[pos++] = 0x80 | (unit & 0x3f)
      } else if (unit >= 0x80) {
        out[pos++] = 0xc0 | (unit >> 6)
        out[pos++] = 0x80 | (unit & 0x3f)
      } else if (unit >= 0) {
        out[pos++] = unit
        if (unit === QUOTE) flags |= F_QUOTE
        else if (unit === LF || unit === CR) flags |= F_CRLF
      }
      for (let i = written; i < pos; i++) if (out[i] === sep0) flags |= F_SEP
      // Plain bytes up to the next escape or the closing quote.
      for (;;) {
        if (k >= limit) return -1
        const b = buf[k]!
        const c = cls[b]!
        if (c === K_ESC) {
          k++
          break
        }
        if (high !== 0) {
          pos = this.writeLone(pos)
          if (this.sepHasReplacement) flags |= F_LONE
          if (sep0 === 0xef) flags |= F_SEP
          high = 0
        }
        k++
        if (c === K_COPY) {
          out[pos++] = b
        } else if (c === K_SEP) {
          out[pos++] = b
          flags |= F_SEP
        } else if (c === K_END) {
          this.pos = pos
          if (flags !== 0) this.finishFlaggedCell(flags)
          return k
        } else {
          return -2
        }
      }
    }
  }
}
