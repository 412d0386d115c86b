/**
 * When a webhook that failed is tried again: growing steps of WEBHOOK_FIRST_RETRY (5 s, 30 s,
 * 2 min, 10 min, 30 min, 1 h, 2 h, then every 4 h by default), each ±20 % so that receivers
 * coming back are not hit by every gateway at once. Portable.
 */

/** Multiples of the first delay, by attempts made; the last repeats. */
export const RETRY_STEPS = [1, 6, 24, 120, 360, 720, 1440, 2880] as const

/** The delay before the next attempt, after `attempts` (1 or more) failed ones. */
export function toRetryDelay(
  attempts: number,
  firstRetryMs: number,
  random: () => number = Math.random,
): number {
  const step = RETRY_STEPS[Math.min(Math.max(attempts, 1), RETRY_STEPS.length) - 1]!
  return Math.round(firstRetryMs * step * (0.8 + 0.4 * random()))
}

/**
 * When the next attempt is due, or `null` when it would fall past `firstDueAt + retryForMs`:
 * the delivery is then given up.
 */
export function toNextAttemptAt(
  attempts: number,
  now: number,
  firstDueAt: number,
  settings: { firstRetryMs: number; retryForMs: number },
  random?: () => number,
): number | null {
  const next = now + toRetryDelay(attempts, settings.firstRetryMs, random)
  return next > firstDueAt + settings.retryForMs ? null : next
}
