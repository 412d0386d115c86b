/** Assertions on the async-query status a gateway answers, shared by the e2e and conformance suites. */
import { expect } from 'vitest'

/** The query ended FAILED, and its info carries Kylin's `message` on one line (no stack, no SQL). */
export function expectFailedWithKylinMessage(
  status: { status?: string; info?: string },
  message: string,
): void {
  expect(status.status).toBe('FAILED')
  expect(status.info).toContain(message)
  expect(status.info).not.toContain('\n')
}
