/**
 * The body of an export thread: runs one export at a time with the same transform the main
 * thread would (createExportTransform), a chunk in, its output back, until the end or a cancel.
 * Node only; started by export-thread.ts.
 */
import { createHash, type Hash } from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'
import type { ByteTransform } from '../../../export/byte-stream.ts'
import { createExportTransform } from '../../../export/export-result.ts'
import { preferKylinCsvKernel } from '../../../export/kylin-csv/kernel-choice.ts'
import {
  toErrorData,
  toTransferList,
  type FromThread,
  type Progress,
  type ThreadSetup,
  type ToThread,
} from './messages.ts'

const port = parentPort
if (!port) throw new Error('thread-entry.ts runs as a worker thread only.')
const setup = workerData as ThreadSetup | undefined
if (setup?.csvKernel) preferKylinCsvKernel(setup.csvKernel)

let job = -1
let transform: ByteTransform | null = null
let out: Uint8Array[] = []
let progress: Progress | null = null
/** The job's bytes hashed as they leave, when it asked: the main thread then hashes nothing. */
let hash: Hash | null = null

/** Output about to leave, hashed first when the job asked. */
function hashed(chunks: Uint8Array[]): Uint8Array[] {
  if (hash) for (const chunk of chunks) hash.update(chunk)
  return chunks
}

/** Posts a message whose chunks (and `more` buffers) move to the main thread. */
function post(message: FromThread, chunks: Uint8Array[], more: ArrayBuffer[] = []): void {
  port!.postMessage(message, [...toTransferList(chunks), ...more])
}

function fail(error: unknown): void {
  transform = null
  hash = null
  post({ type: 'failed', job, error: toErrorData(error) }, [])
}

function sendOut(ack: boolean, spent?: Uint8Array<ArrayBuffer>): void {
  const chunks = hashed(out)
  out = []
  const given = spent ? { spent } : {}
  post({ type: 'out', job, chunks, ack, progress, ...given }, chunks, spent ? [spent.buffer] : [])
  progress = null
}

/** One message at a time, in order: a job's transform may load its writer before it exists. */
let queue: Promise<void> = Promise.resolve()
port.on('message', (message: ToThread) => {
  queue = queue.then(() => handle(message))
})

async function handle(message: ToThread): Promise<void> {
  if (message.type === 'start') {
    job = message.job
    out = []
    progress = null
    transform = null
    hash = message.request.hash ? createHash('sha256') : null
    try {
      transform = await createExportTransform(
        { ...message.request, onProgress: (rows, bytes) => (progress = [rows, bytes]) },
        (chunk) => out.push(chunk),
      )
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
      case 'chunk':
        transform.push(message.bytes)
        if (message.handOn) transform.handOn?.()
        // A transform keeps nothing of a chunk after `push` (the kernel and sources copy what
        // they carry over), so a chunk moved here can go back to be filled again.
        sendOut(
          true,
          message.bytes.buffer instanceof ArrayBuffer
            ? (message.bytes as Uint8Array<ArrayBuffer>)
            : undefined,
        )
        break
      case 'end': {
        const summary = transform.finish()
        transform = null
        const chunks = hashed(out)
        out = []
        const sha256 = hash?.digest('hex')
        hash = null
        post({ type: 'done', job, chunks, progress, summary, sha256 }, chunks)
        break
      }
      case 'cancel':
        transform = null
        hash = null
        out = []
        break
    }
  } catch (error) {
    fail(error)
  }
}
