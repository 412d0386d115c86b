/**
 * How a process's memory settles once the load stops: its RSS sampled while nothing calls it,
 * until it is back within a bound of where it started or the time is up. Bench only (Linux /proc).
 */
import { readMemory } from './processes.ts'

export interface Settling {
  startMiB: number
  /** RSS when the load ended. */
  afterMiB: number
  /** The last sample: within the bound, or at the deadline. */
  settledMiB: number
  /** Seconds of idleness until the first sample within the bound; null if none was. */
  withinAfterS: number | null
  boundMB: number
  within: boolean
  /** [seconds idle, RSS MiB] every `everyMs`. */
  samples: [number, number][]
}

const MIB_PER_MB = 1e6 / 1024 ** 2

export async function watchSettling(
  pid: number,
  startMiB: number,
  options: { boundMB: number; maxSeconds: number; everyMs: number },
): Promise<Settling> {
  const boundMiB = options.boundMB * MIB_PER_MB
  const afterMiB = readMemory(pid).rssMiB
  const samples: [number, number][] = [[0, afterMiB]]
  const isWithin = (rssMiB: number) => rssMiB - startMiB <= boundMiB
  const started = performance.now()
  while (!isWithin(samples.at(-1)![1]) && samples.at(-1)![0] < options.maxSeconds) {
    await new Promise((resolve) => setTimeout(resolve, options.everyMs))
    samples.push([Math.round((performance.now() - started) / 1000), readMemory(pid).rssMiB])
  }
  const [lastS, settledMiB] = samples.at(-1)!
  const within = isWithin(settledMiB)
  return {
    startMiB,
    afterMiB,
    settledMiB,
    withinAfterS: within ? lastS : null,
    boundMB: options.boundMB,
    within,
    samples,
  }
}
