/**
 * The grammar of Kylin's `results` rows shared by every reader of them: the row states and the
 * steps whose failures must read the same whichever reader meets them. Portable.
 */
import { COMMA, QUOTE, describeByte, isSpace } from './bytes.ts'
import type { KylinResponseFrame } from './frame.ts'

// Row states (20–29; the frame has its own below 20, numbers theirs from 30, number.ts).
export const R_OPEN = 20
export const R_AFTER_ROW = 21
export const R_EXPECT_ROW = 22
export const W_FIRST = 23
export const W_AFTER_CELL = 24
export const W_EXPECT_CELL = 25
export const C_STR = 26
export const C_ESC = 27
export const C_ESC_U = 28
export const C_LIT = 29

/** What `toStateBetweenRows` returns after the `]` that ends `results`. */
export const RESULTS_END = -1

/**
 * One byte between rows (R_OPEN, R_AFTER_ROW, R_EXPECT_ROW): the next state (the same one for
 * whitespace, W_FIRST after a row's `[`), RESULTS_END, or an UpstreamError.
 * `rows` is how many rows were complete, for the message.
 */
export function toStateBetweenRows(
  frame: KylinResponseFrame,
  state: number,
  b: number,
  at: number,
  rows: number,
): number {
  if (isSpace(b)) return state
  if (state !== R_EXPECT_ROW && b === 93) return RESULTS_END
  if (state === R_AFTER_ROW) {
    if (b !== COMMA) frame.fail(`expected ',' or ']' after a row, found ${describeByte(b)}`, at)
    return R_EXPECT_ROW
  }
  if (b === 91) return W_FIRST
  const value = b === QUOTE || b === 123 || b === 110 || b === 116 || b === 102 || b === 45
  if (value || (b >= 48 && b <= 57)) {
    frame.failShape(`row ${rows + 1} of "results" is not an array`, at)
  }
  frame.fail(`expected a row, found ${describeByte(b)}`, at)
}

/** A byte that starts no cell (string, number, boolean or null): fails, saying what it is. */
export function failCellStart(
  frame: KylinResponseFrame,
  b: number,
  at: number,
  rows: number,
): never {
  if (b === 91 || b === 123) {
    frame.failShape(
      `a cell of "results" (row ${rows + 1}) is an ${b === 91 ? 'array' : 'object'}, not a string, number, boolean or null`,
      at,
    )
  }
  frame.fail(`expected a value, found ${describeByte(b)}`, at)
}
