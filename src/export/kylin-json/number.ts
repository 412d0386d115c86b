/**
 * JSON's number grammar as a resumable state machine, one byte per step, shared by every reader
 * of Kylin JSON cells (a number cell keeps its JSON text, so only its end must be found).
 * Portable.
 */

// Kept apart from the other row states' numbers (20–29) of the readers that use these.
export const N_SIGN = 30
export const N_ZERO = 31
export const N_INT = 32
export const N_DOT = 33
export const N_FRAC = 34
export const N_E = 35
export const N_ESIGN = 36
export const N_EXP = 37

/** Whether a state is one of these. */
export const isNumberState = (state: number) => state >= N_SIGN && state <= N_EXP

/** The state after a number's first byte (`-` or a digit). */
export const toFirstNumberState = (b: number) => (b === 45 ? N_SIGN : b === 48 ? N_ZERO : N_INT)

/** Whether the number may end in this state (not after a sign, a dot or an `e`). */
export const isNumberComplete = (state: number) =>
  state !== N_SIGN && state !== N_DOT && state !== N_E && state !== N_ESIGN

/** The state after `b`, or -1 when `b` is not part of the number (it ends, or is an error). */
export function toNextNumberState(state: number, b: number): number {
  const digit = b >= 48 && b <= 57
  switch (state) {
    case N_SIGN:
      return digit ? (b === 48 ? N_ZERO : N_INT) : -1
    case N_ZERO:
      return b === 46 ? N_DOT : b === 101 || b === 69 ? N_E : -1
    case N_INT:
      return digit ? N_INT : b === 46 ? N_DOT : b === 101 || b === 69 ? N_E : -1
    case N_DOT:
      return digit ? N_FRAC : -1
    case N_FRAC:
      return digit ? N_FRAC : b === 101 || b === 69 ? N_E : -1
    case N_E:
      return digit ? N_EXP : b === 43 || b === 45 ? N_ESIGN : -1
    case N_ESIGN:
    case N_EXP:
      return digit ? N_EXP : -1
    default:
      return -1
  }
}
