/**
 * Child processes for the benchmarks: start one, wait for its "listening" line, read its memory
 * from /proc, and make sure none outlives the bench. Bench only, Node only (Linux /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

export interface Child {
  pid: number
  process: ChildProcess
  /** What `match` returned for the line that said the child is ready. */
  ready: string
  /** The last few KiB of stderr, for error messages. */
  stderrTail(): string
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>
}

export interface SpawnOptions {
  cwd: string
  /** Returns the ready value (e.g. a URL) for a stdout line, or null while not ready. */
  match: (line: string) => string | null
  /** Every stdout line, also after ready (the pipe is always drained so the child never blocks). */
  onLine?: (line: string) => void
  timeoutMs: number
}

const STDERR_TAIL_CHARS = 4096
const alive = new Set<ChildProcess>()

// A bench that dies half-way must not leave gateways or upstreams behind. 'exit' handlers run
// synchronously, so SIGKILL (which needs no waiting) is the only thing done there.
process.on('exit', () => {
  for (const child of alive) child.kill('SIGKILL')
})
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => process.exit(130))
}

export function spawnChild(command: string, args: string[], options: SpawnOptions): Promise<Child> {
  const child = spawn(command, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
  alive.add(child)
  child.once('exit', () => alive.delete(child))
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_TAIL_CHARS)
  })
  const stop = async (graceMs = 5_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }

  return new Promise<Child>((resolve, reject) => {
    let settled = false
    const fail = (message: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      void stop(0)
      reject(new Error(`${message}\n${stderr.trim()}`))
    }
    const timer = setTimeout(
      () => fail(`${args.join(' ')}: not ready within ${options.timeoutMs} ms`),
      options.timeoutMs,
    )
    child.once('error', (error) => fail(`${command} failed to start: ${error.message}`))
    child.once('exit', (code, signal) => fail(`${args.join(' ')} exited (${signal ?? code})`))
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      options.onLine?.(line)
      if (settled) return
      const ready = options.match(line)
      if (ready === null) return
      settled = true
      clearTimeout(timer)
      resolve({
        pid: child.pid!,
        process: child,
        ready,
        stderrTail: () => stderr,
        stop,
      })
    })
  })
}

export interface Memory {
  /** Resident set now, MiB. */
  rssMiB: number
  /** Peak resident set over the process's lifetime (VmHWM), MiB. */
  peakMiB: number
}

export function readMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
    if (!match) throw new Error(`/proc/${pid}/status has no ${field}`)
    return Number(match[1]) / 1024
  }
  return { rssMiB: kib('VmRSS'), peakMiB: kib('VmHWM') }
}

/**
 * CPU time (user + system, all threads) the process has used so far, in ms. Per request it is a
 * steadier measure than requests per second on a shared machine, where throughput swings with
 * whatever else runs.
 */
export function readCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  // utime and stime, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10
}
