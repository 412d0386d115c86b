/** The retry schedule: growing steps with ±20 % jitter, ending WEBHOOK_RETRY_FOR after the first. */
import { describe, expect, it } from 'vitest'
import { RETRY_STEPS, toNextAttemptAt, toRetryDelay } from '../../src/webhooks/retry-schedule.ts'

describe('toRetryDelay', () => {
  it('grows 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, then 4 h (no jitter at the midpoint)', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9, 20].map((n) => toRetryDelay(n, 5000, () => 0.5))
    expect(delays).toEqual([
      5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 14_400_000,
      14_400_000,
    ])
    expect(RETRY_STEPS.length).toBe(8)
  })

  it('stays within ±20 % of each step', () => {
    expect(toRetryDelay(2, 5000, () => 0)).toBe(24_000)
    expect(toRetryDelay(2, 5000, () => 0.999999)).toBe(36_000)
    for (let i = 0; i < 200; i++) {
      const delay = toRetryDelay(3, 1000)
      expect(delay).toBeGreaterThanOrEqual(19_200)
      expect(delay).toBeLessThanOrEqual(28_800)
    }
  })
})

describe('toNextAttemptAt', () => {
  const settings = { firstRetryMs: 5000, retryForMs: 24 * 3_600_000 }
  it('schedules from now', () => {
    expect(toNextAttemptAt(1, 1_000_000, 1_000_000, settings, () => 0.5)).toBe(1_005_000)
  })
  it('gives up once the next attempt would fall past WEBHOOK_RETRY_FOR', () => {
    const first = 0
    let now = first
    let attempts = 0
    const times: number[] = []
    for (;;) {
      attempts++
      const next = toNextAttemptAt(attempts, now, first, settings, () => 0.5)
      if (next === null) break
      times.push(next)
      now = next
    }
    // 5 s + 30 s + 2 m + 10 m + 30 m + 1 h + 2 h + 4 h × 5 = 23 h 42 m 35 s; one more passes 24 h.
    expect(times.length).toBe(12)
    expect(times.at(-1)).toBe(23 * 3_600_000 + 42 * 60_000 + 35_000)
    expect(times.at(-1)).toBeLessThanOrEqual(settings.retryForMs)
    expect(times.at(-1)! + 14_400_000).toBeGreaterThan(settings.retryForMs)
  })
})
