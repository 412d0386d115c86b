/**
 * The kernel's resumable row machine: every row the fast path leaves (cut by a chunk's end, or
 * holding a number, a boolean or an error), one byte or one run per step, any split. Portable.
 */
import {
  BACKSLASH,
  COMMA,
  ESCAPED,
  LF,
  LIT_FALSE,
  LIT_NULL,
  LIT_TRUE,
  QUOTE,
  describeByte,
  hexValue,
  isSpace,
  pendingAfter,
} from '../kylin-json/bytes.ts'
import {
  C_ESC,
  C_ESC_U,
  C_LIT,
  C_STR,
  F_SEP,
  K_COPY,
  K_END,
  K_ESC,
  K_SEP,
  R_AFTER_ROW,
  R_EXPECT_ROW,
  R_OPEN,
  W_AFTER_CELL,
  W_EXPECT_CELL,
  W_FIRST,
} from './constants.ts'
import { WasmRows } from './wasm-rows.ts'
import { RESULTS_END, failCellStart, toStateBetweenRows } from '../kylin-json/row-grammar.ts'
import {
  N_DOT,
  N_E,
  N_ESIGN,
  N_EXP,
  N_FRAC,
  N_INT,
  N_SIGN,
  N_ZERO,
  isNumberComplete,
  toFirstNumberState,
  toNextNumberState,
} from '../kylin-json/number.ts'

export class RowMachine extends WasmRows {
  private hexCount = 0
  private hexValue = 0
  private pendingHigh = 0
  private literal: Uint8Array = LIT_NULL
  private literalIndex = 0

  /**
   * Reads `results` from `from`: whole rows go to `fastRows`, the rest byte by byte. Its locals
   * are saved to fields when the chunk ends, so the next chunk carries on from any byte.
   * Returns `end`, or the index after the `]` that ends `results` (the frame then takes over).
   */
  protected parseRows(buf: Uint8Array, from: number, end: number): number {
    const cls = this.cls
    const sep = this.sep
    const sep0 = this.sep0
    const sepLength = sep.length
    let out = this.out
    let pos = this.pos
    let state = this.state
    let flags = this.flags
    let j = from

    main: while (j < end) {
      switch (state) {
        // ---- string cells (of rows the fast path left) ----
        case C_STR: {
          if (this.pendingHigh !== 0) {
            if (buf[j] === BACKSLASH) {
              j++
              state = C_ESC
              continue main
            }
            // A high surrogate not followed by a low one: JSON.parse keeps it lone, and
            // TextEncoder turns a lone surrogate into U+FFFD.
            if (out.length - pos < 3) {
              this.pos = pos
              this.makeRoom(3)
              out = this.out
              pos = this.pos
            }
            flags = this.writeUnit(pos, this.pendingHigh, -1, flags)
            pos = this.pos
            this.pendingHigh = 0
          }
          for (;;) {
            const room = out.length - pos
            const limit = end - j <= room ? end : j + room
            let b = 0
            let c = K_COPY
            while (j < limit) {
              b = buf[j]!
              c = cls[b]!
              if (c !== K_COPY) break
              out[pos++] = b
              j++
            }
            if (j === limit) {
              if (j === end) break main
              this.pos = pos
              this.makeRoom(1)
              out = this.out
              pos = this.pos
              continue
            }
            j++
            if (c === K_END) {
              if (flags !== 0) {
                this.pos = pos
                this.finishFlaggedCell(flags)
                out = this.out
                pos = this.pos
                flags = 0
              }
              this.cellStart = -1
              state = W_AFTER_CELL
              continue main
            }
            if (c === K_SEP) {
              flags |= F_SEP
              out[pos++] = b
              continue
            }
            if (c === K_ESC) {
              state = C_ESC
              continue main
            }
            this.frame.fail('a control character inside a string', j - 1)
          }
        }
        case C_ESC: {
          const b = buf[j]!
          const d = ESCAPED[b]!
          if (d === -2) {
            j++
            this.hexCount = 0
            this.hexValue = 0
            state = C_ESC_U
            continue main
          }
          if (d < 0) this.frame.fail(`an invalid escape \\${String.fromCharCode(b)}`, j)
          j++
          if (out.length - pos < 4) {
            this.pos = pos
            this.makeRoom(4)
            out = this.out
            pos = this.pos
          }
          flags = this.writeUnit(pos, this.pendingHigh, d, flags)
          pos = this.pos
          this.pendingHigh = 0
          state = C_STR
          continue main
        }
        case C_ESC_U: {
          const h = hexValue(buf[j]!)
          if (h < 0) this.frame.fail('an invalid \\u escape', j)
          j++
          this.hexValue = this.hexValue * 16 + h
          if (++this.hexCount < 4) continue main
          const unit = this.hexValue
          if (out.length - pos < 8) {
            this.pos = pos
            this.makeRoom(8)
            out = this.out
            pos = this.pos
          }
          flags = this.writeUnit(pos, this.pendingHigh, unit, flags)
          pos = this.pos
          this.pendingHigh = pendingAfter(unit)
          state = C_STR
          continue main
        }

        // ---- rows ----
        case W_AFTER_CELL: {
          const b = buf[j]!
          if (b === COMMA) {
            j++
            state = W_EXPECT_CELL
            continue main
          }
          if (b === 93) {
            j++
            pos = this.put(pos, LF)
            out = this.out
            this.rows++
            this.slowRow = false
            state = R_AFTER_ROW
            continue main
          }
          if (isSpace(b)) {
            j++
            continue main
          }
          this.frame.fail(`expected ',' or ']' after a cell, found ${describeByte(b)}`, j)
        }
        case W_EXPECT_CELL:
        case W_FIRST: {
          const b = buf[j]!
          if (isSpace(b)) {
            j++
            continue main
          }
          if (state === W_FIRST) {
            if (b === 93) {
              // An empty row: an empty line, as the reference encoder writes it.
              state = W_AFTER_CELL
              continue main
            }
          } else {
            if (out.length - pos < sepLength) {
              this.pos = pos
              this.makeRoom(sepLength)
              out = this.out
              pos = this.pos
            }
            if (sepLength === 1) out[pos++] = sep0
            else for (let k = 0; k < sepLength; k++) out[pos++] = sep[k]!
          }
          j++
          this.cellStart = pos
          flags = 0
          if (b === QUOTE) {
            state = C_STR
            continue main
          }
          if (b === 110) {
            // null: an empty cell, nothing to write.
            this.literal = LIT_NULL
            this.literalIndex = 1
            state = C_LIT
            continue main
          }
          if (b === 116 || b === 102) {
            this.literal = b === 116 ? LIT_TRUE : LIT_FALSE
            this.literalIndex = 1
            state = C_LIT
          } else if (b === 45 || (b >= 48 && b <= 57)) {
            state = toFirstNumberState(b)
          } else {
            failCellStart(this.frame, b, j - 1, this.rows)
          }
          pos = this.put(pos, b)
          out = this.out
          continue main
        }
        case C_LIT: {
          const b = buf[j]!
          const literal = this.literal
          if (b !== literal[this.literalIndex]) {
            this.frame.fail(`an invalid literal, found ${describeByte(b)}`, j)
          }
          j++
          if (literal !== LIT_NULL) {
            pos = this.put(pos, b)
            out = this.out
          }
          if (++this.literalIndex < literal.length) continue main
          this.pos = pos
          this.endAsciiCell()
          out = this.out
          pos = this.pos
          state = W_AFTER_CELL
          continue main
        }
        case N_SIGN:
        case N_ZERO:
        case N_INT:
        case N_DOT:
        case N_FRAC:
        case N_E:
        case N_ESIGN:
        case N_EXP: {
          // A number cell keeps its JSON text (no float round trip, so no lost digits).
          const b = buf[j]!
          const next = toNextNumberState(state, b)
          if (next >= 0) {
            j++
            pos = this.put(pos, b)
            out = this.out
            state = next
            continue main
          }
          if (!isNumberComplete(state)) {
            this.frame.fail(`an incomplete number, found ${describeByte(b)}`, j)
          }
          // The number ended at b, which the row state reads next.
          this.pos = pos
          this.endAsciiCell()
          out = this.out
          pos = this.pos
          state = W_AFTER_CELL
          continue main
        }

        // ---- the results array ----
        case R_OPEN:
        case R_AFTER_ROW:
        case R_EXPECT_ROW: {
          if (!this.slowRow) {
            this.pos = pos
            this.state = state
            j = this.fastRows(buf, j, end)
            out = this.out
            pos = this.pos
            state = this.state
            continue main
          }
          const next = toStateBetweenRows(this.frame, state, buf[j]!, j, this.rows)
          j++
          if (next === RESULTS_END) {
            // The end of `results`: back to the frame for the members after it.
            this.frame.endResults()
            break main
          }
          state = next
          continue main
        }
        default:
          throw new Error(`transcoder: unknown state ${state}`)
      }
    }
    this.out = out
    this.pos = pos
    this.state = state
    this.flags = flags
    return j
  }
}
