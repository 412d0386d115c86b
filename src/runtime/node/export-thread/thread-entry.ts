/**
 * The body of an export thread: runs one export at a time with the same transform the main
 * thread would (createExportTransform), a batch in, its output back, until the end or a cancel.
 * The output is gathered into 1 MiB buffers, each moved to the main thread whole, and the
 * batches it has read become those buffers: one message per batch each way, and no buffer
 * allocated per chunk on either side. Node only; started by export-threads.ts.
 */
import { createHash, type Hash } from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'
import type { ByteTransform } from '../../../export/byte-stream.ts'
import { createExportTransform } from '../../../export/export-result.ts'
import { preferKylinCsvKernel } from '../../../export/kylin-csv/kernel-choice.ts'
import {
  BATCH_BYTES,
  toErrorData,
  type FromThread,
  type Progress,
  type ThreadSetup,
  type ToThread,
} from './messages.ts'

/**
 * A buffer that leaves part filled (output handed on early, or the last) moves whole only when
 * at least this full; less is copied out and the buffer stays, so a consumer that keeps its
 * chunks never holds a mostly empty MiB for a few bytes.
 */
const MOVE_AT_LEAST = BATCH_BYTES / 2
/**
 * Buffers kept to gather output in (read batches, and those the main thread sends back where the
 * file outgrows the body); more read batches go back to the main thread to be filled again. Two
 * export as fast as four did (bench/compare.bench.ts) and hold 2 MiB less.
 */
const KEEP_BUFFERS = 2

const port = parentPort
if (!port) throw new Error('thread-entry.ts runs as a worker thread only.')
const setup = workerData as ThreadSetup | undefined
if (setup?.csvKernel) preferKylinCsvKernel(setup.csvKernel)

let job = -1
let transform: ByteTransform | null = null
let progress: Progress | null = null
/** The job's bytes hashed as they leave, when it asked: the main thread then hashes nothing. */
let hash: Hash | null = null

/** Empty buffers to gather output in, kept between jobs. */
const free: Uint8Array<ArrayBuffer>[] = []
/** The buffer output is gathered in now, and how much of it is filled. */
let gathering: Uint8Array<ArrayBuffer> | null = null
let gathered = 0
/** Output ready to leave with the next message, and the buffers that move with it. */
let ready: Uint8Array[] = []
let moving: ArrayBuffer[] = []

/** The transform's output, copied into the buffer being gathered (copiesAtOnce). */
function gather(chunk: Uint8Array): void {
  let from = 0
  while (from < chunk.byteLength) {
    gathering ??= free.pop() ?? new Uint8Array(BATCH_BYTES)
    const take = Math.min(chunk.byteLength - from, BATCH_BYTES - gathered)
    gathering.set(chunk.subarray(from, from + take), gathered)
    gathered += take
    from += take
    if (gathered === BATCH_BYTES) seal()
  }
}

/** What is gathered leaves with the next message: the buffer itself, or a copy (MOVE_AT_LEAST). */
function seal(): void {
  if (gathering === null || gathered === 0) return
  let chunk: Uint8Array<ArrayBuffer>
  if (gathered >= MOVE_AT_LEAST) {
    chunk = gathering.subarray(0, gathered)
    gathering = null
  } else {
    chunk = gathering.slice(0, gathered)
  }
  gathered = 0
  hash?.update(chunk)
  ready.push(chunk)
  moving.push(chunk.buffer)
}

/** Keeps a buffer to gather output in, or answers it for the main thread to fill again. */
function keep(buffer: Uint8Array<ArrayBuffer> | null): Uint8Array<ArrayBuffer> | undefined {
  if (buffer === null || buffer.buffer.byteLength !== BATCH_BYTES) return undefined
  if (free.length >= KEEP_BUFFERS) return buffer
  free.push(new Uint8Array(buffer.buffer))
  return undefined
}

/** Drops the job's state; the buffer being gathered is kept for the next job. */
function reset(): void {
  transform = null
  hash = null
  progress = null
  keep(gathering)
  gathering = null
  gathered = 0
  ready = []
  moving = []
}

function fail(error: unknown): void {
  reset()
  port!.postMessage({ type: 'failed', job, error: toErrorData(error) } satisfies FromThread)
}

/** Posts the output made ready, its buffers (and `spent`'s) moving with it. */
function sendOut(ack: boolean, spent?: Uint8Array<ArrayBuffer>): void {
  const transfer = spent ? [...moving, spent.buffer] : moving
  const given = spent ? { spent } : {}
  const message: FromThread = { type: 'out', job, chunks: ready, ack, progress, ...given }
  port!.postMessage(message, transfer)
  ready = []
  moving = []
  progress = null
}

/** One message at a time, in order: a job's transform may load its writer before it exists. */
let queue: Promise<void> = Promise.resolve()
port.on('message', (message: ToThread) => {
  queue = queue.then(() => handle(message))
})

async function handle(message: ToThread): Promise<void> {
  if (message.type === 'start') {
    reset()
    job = message.job
    hash = message.request.hash ? createHash('sha256') : null
    try {
      transform = await createExportTransform(
        {
          ...message.request,
          copiesAtOnce: true,
          onProgress: (rows, bytes) => (progress = [rows, bytes]),
        },
        gather,
      )
      seal()
      sendOut(false)
    } catch (error) {
      fail(error)
    }
    return
  }
  // A message of a job that was cancelled or failed here.
  if (message.job !== job || !transform) return
  try {
    switch (message.type) {
      case 'chunk': {
        for (const buffer of message.buffers ?? []) keep(buffer as Uint8Array<ArrayBuffer>)
        transform.push(message.bytes)
        if (message.handOn) {
          transform.handOn?.()
          seal()
        }
        // A transform keeps nothing of a chunk after `push` (the kernel and sources copy what
        // they carry over), so the batch can gather output next, or go back to be filled again.
        const batch = message.bytes.buffer instanceof ArrayBuffer ? message.bytes : null
        sendOut(true, keep(batch as Uint8Array<ArrayBuffer> | null))
        break
      }
      case 'end': {
        const summary = transform.finish()
        seal()
        const sha256 = hash?.digest('hex')
        const chunks = ready
        const transfer = moving
        ready = []
        moving = []
        port!.postMessage(
          { type: 'done', job, chunks, progress, summary, sha256 } satisfies FromThread,
          transfer,
        )
        reset()
        break
      }
      case 'cancel':
        reset()
        break
    }
  } catch (error) {
    fail(error)
  }
}
