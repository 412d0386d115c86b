/**
 * Collects the process's unhandled rejections while the calling test file runs: registers
 * beforeAll/afterAll hooks where it is called, so call it at a file's top level.
 */
import { afterAll, beforeAll } from 'vitest'

/** The reasons of every unhandled rejection since the file's beforeAll, in order. */
export function collectUnhandledRejections(): unknown[] {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => void unhandled.push(reason)
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled)
  })
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled)
  })
  return unhandled
}
