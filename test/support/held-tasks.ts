/**
 * Limiter tasks that record when they start and then hold their slot until the test releases
 * them by name, so a test can see which queued task a freed slot goes to. Portable.
 */
import type { Limiter } from '../../src/queries/limiter.ts'

export interface HeldTasks {
  /** Names of the tasks that have started, in order. */
  started: string[]
  /** Queues a task named `name` for `key` on `limiter`; it settles once released. */
  run(limiter: Limiter, name: string, key: string): Promise<void>
  /** Lets the named tasks (all started) finish. */
  release(...names: string[]): void
}

export function createHeldTasks(): HeldTasks {
  const started: string[] = []
  const releases = new Map<string, () => void>()
  return {
    started,
    run: (limiter, name, key) =>
      limiter.run(
        () =>
          new Promise<void>((resolve) => {
            started.push(name)
            releases.set(name, resolve)
          }),
        undefined,
        key,
      ),
    release(...names) {
      for (const name of names) releases.get(name)!()
    },
  }
}
