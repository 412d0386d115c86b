/**
 * A bounded set of export threads: each a worker_thread with a heap of its own, small and capped,
 * so the garbage of a writer is collected early and never grows the main thread's heap. A thread
 * runs one export at a time; an idle thread is kept a while for the next export (starting one
 * takes tens of milliseconds), then stopped, and `warm` starts one ahead of an export (the runner
 * asks as a query's upstream call starts). Node only.
 */
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { GatewayError } from '../../../errors.ts'
import type { KylinCsvKernel } from '../../../export/kylin-csv/kernel-choice.ts'
import type { FromThread, JobInput, ThreadRequest, ThreadSetup, ToThread } from './messages.ts'

export interface ExportThreadsOptions {
  /** Threads at most; past them `acquire` answers null. */
  threads: number
  /** Old-generation heap of a thread, MiB. */
  heapMb: number
  /**
   * Young-generation heap of a thread, MiB. Small, so short-lived cells and batches are
   * collected often, while they are still few (bench/formats.bench.ts measures it).
   */
  youngMb?: number
  /** How long an idle thread is kept for the next export. */
  idleMs?: number
  /** The CSV kernel's fast path in the thread, as the main thread has it. */
  csvKernel?: KylinCsvKernel
}

/** What a job hears from its thread. */
export interface JobListener {
  message(message: FromThread): void
  /** The thread died (out of memory, or a bug): the job is over. */
  crash(error: Error): void
}

export interface ExportThread {
  /** Starts a job on this thread; its messages go to `listener` until `release`. */
  begin(request: ThreadRequest, listener: JobListener): void
  /**
   * A message to the current job. A chunk is copied, unless `move`: then its buffer goes to the
   * thread and is no longer the caller's.
   */
  send(input: JobInput, move?: boolean): void
  /** Ends the job (cancelling it if the thread is still at it) and frees the thread. */
  release(): void
}

export interface ExportThreads {
  acquire(): ExportThread | null
  /** Starts a thread, idle, where the next `acquire` would otherwise have to start one. */
  warm(): void
  /** Threads running an export now. */
  readonly busy: number
  /** Threads started and kept for the next export. */
  readonly idle: number
  close(): Promise<void>
}

const DEFAULT_YOUNG_MB = 4
const DEFAULT_IDLE_MS = 30_000

export function createExportThreads(options: ExportThreadsOptions): ExportThreads {
  const idle: PooledThread[] = []
  let busy = 0
  let closed = false

  /** Keeps an idle thread for the next export, for a while. */
  const keep = (thread: PooledThread) => {
    idle.push(thread)
    thread.idleTimer = setTimeout(() => {
      const at = idle.indexOf(thread)
      if (at >= 0) idle.splice(at, 1)
      void thread.worker.terminate()
    }, options.idleMs ?? DEFAULT_IDLE_MS)
    thread.idleTimer.unref()
  }
  const free = (thread: PooledThread) => {
    busy--
    if (thread.dead || closed) {
      void thread.worker.terminate()
      return
    }
    keep(thread)
  }

  return {
    acquire() {
      if (closed || busy >= options.threads) return null
      let reused = idle.pop()
      // A thread that died while idle is dropped with its timer, which would splice another.
      while (reused?.dead) {
        clearTimeout(reused.idleTimer)
        reused = idle.pop()
      }
      if (reused) clearTimeout(reused.idleTimer)
      busy++
      return reused ?? new PooledThread(options, free)
    },
    warm() {
      if (closed || busy >= options.threads || idle.some((thread) => !thread.dead)) return
      keep(new PooledThread(options, free))
    },
    get busy() {
      return busy
    },
    get idle() {
      return idle.filter((thread) => !thread.dead).length
    },
    async close() {
      closed = true
      const waiting = idle.splice(0)
      for (const thread of waiting) clearTimeout(thread.idleTimer)
      await Promise.all(waiting.map((thread) => thread.worker.terminate()))
    },
  }
}

class PooledThread implements ExportThread {
  readonly worker: Worker
  dead = false
  idleTimer: NodeJS.Timeout | undefined
  private job = 0
  private listener: JobListener | null = null

  constructor(
    private readonly options: ExportThreadsOptions,
    private readonly free: (thread: PooledThread) => void,
  ) {
    this.worker = startWorker(options)
    this.worker.unref()
    this.worker.on('message', (message: FromThread) => {
      if (message.job === this.job) this.listener?.message(message)
    })
    this.worker.on('error', (error: Error & { code?: string }) => this.die(toCrash(error, options)))
    this.worker.on('exit', (code) =>
      this.die(new Error(`The export thread stopped (exit code ${code}).`)),
    )
  }

  begin(request: ThreadRequest, listener: JobListener): void {
    this.listener = listener
    this.post({ type: 'start', job: ++this.job, request })
  }

  send(input: JobInput, move = false): void {
    const transfer: ArrayBuffer[] = []
    if (move && input.type === 'chunk') {
      for (const view of [input.bytes, ...(input.buffers ?? [])]) {
        if (view.buffer instanceof ArrayBuffer) transfer.push(view.buffer)
      }
    }
    this.post({ ...input, job: this.job }, transfer)
  }

  release(): void {
    if (!this.listener) return
    this.listener = null
    if (!this.dead) this.post({ type: 'cancel', job: this.job })
    this.free(this)
  }

  private post(message: ToThread, transfer: ArrayBuffer[] = []): void {
    if (!this.dead) this.worker.postMessage(message, transfer)
  }

  private die(error: Error): void {
    if (this.dead) return
    this.dead = true
    const listener = this.listener
    this.listener = null
    listener?.crash(error)
    if (listener) this.free(this)
  }
}

/** The compiled entry in dist/; from the TypeScript sources (tests, `npm run dev`), through tsx. */
function startWorker(options: ExportThreadsOptions): Worker {
  const resourceLimits = {
    maxOldGenerationSizeMb: options.heapMb,
    maxYoungGenerationSizeMb: options.youngMb ?? DEFAULT_YOUNG_MB,
  }
  const workerData: ThreadSetup = { csvKernel: options.csvKernel }
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./thread-entry.js', import.meta.url), { resourceLimits, workerData })
  }
  // tsx's ESM API sits beside the CommonJS entry `require.resolve` finds.
  const tsxApi = createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs')
  const api = pathToFileURL(tsxApi).href
  const entry = new URL('./thread-entry.ts', import.meta.url).href
  const code = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(code, { eval: true, resourceLimits, workerData })
}

function toCrash(error: Error & { code?: string }, options: ExportThreadsOptions): Error {
  if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new GatewayError(500, {
      text: `The export needed more memory than its thread may use (EXPORT_THREAD_HEAP_MB=${options.heapMb}); no result was kept. Ask the operator to raise it, or choose a format that holds less at a time (csv, ndjson).`,
    })
  }
  return new GatewayError(500, {
    text: `The export thread failed (${error.message}); no result was kept.`,
  })
}
