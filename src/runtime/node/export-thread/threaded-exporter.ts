/**
 * Exports on export threads (export-threads.ts): the body is read here and handed over a few
 * batches ahead, the file's bytes come back as a stream, so reading, transcoding and storing run
 * on two cores at once. The same Export as exportResult gives, with the same bytes; when every
 * thread is busy, the export runs here. Where the consumer gives chunks back (`recycle`), the
 * buffers the file's bytes came in hold the body's next batches: an export allocates nothing
 * per chunk on this thread. Node only.
 */
import { BufferPool } from '../../../buffer-pool.ts'
import { BodyReader, toReadFailure } from '../../../export/byte-stream.ts'
import { exportResult, type Exporter } from '../../../export/export-result.ts'
import type { ExportSummary } from '../../../export/types.ts'
import type { ExportThreads } from './export-threads.ts'
import { BATCH_BYTES, fromErrorData, type FromThread } from './messages.ts'

/** Body batches handed to a thread and not yet answered: what bounds the memory between the two. */
const CHUNKS_AHEAD = 3
/**
 * Batch buffers kept between exports (those of one export are its own while it runs). The body's
 * chunks (socket reads of up to 256 KiB) are gathered into batches of up to BATCH_BYTES, each
 * moved to the thread whole: a message costs tens of microseconds on each side, so one per read
 * took more than the thread's overlap gave back.
 */
const batches = new BufferPool(BATCH_BYTES, 2 * CHUNKS_AHEAD)
/**
 * A batch is no larger than the output the consumer has taken so far, and at least this: an
 * export starts with small batches, grows them while its output is read, and a consumer that
 * stalls holds up little more than the output queue.
 */
const SMALL_BATCH_BYTES = 16 * 1024
/** How long a partly filled batch waits for more of the body before it goes as it is. */
const BATCH_WAIT_MS = 10
/** Output bytes queued for the consumer before the body is read further. */
const HIGH_WATER_MARK = 256 * 1024

export function createThreadedExporter(threads: ExportThreads): Exporter {
  const exporter: Exporter = (body, request) => {
    const thread = threads.acquire()
    if (!thread) return exportResult(body, request)
    // The thread's buffers move to this one; given back, they hold the body's next batches.
    const { onProgress, recycle, ...threadRequest } = request

    let settle!: { resolve: (s: ExportSummary) => void; reject: (e: unknown) => void }
    const summary = new Promise<ExportSummary>((resolve, reject) => {
      settle = { resolve, reject }
    })
    summary.catch(() => {})
    // Asked for: the thread hashes the bytes it sends, so the main thread need not.
    let settleHash: { resolve: (hex: string) => void; reject: (e: unknown) => void } | undefined
    const sha256 = request.hash
      ? new Promise<string>((resolve, reject) => (settleHash = { resolve, reject }))
      : undefined
    sha256?.catch(() => {})
    let controller!: ReadableStreamDefaultController<Uint8Array>
    const reader = new BodyReader(body)
    // Each read is copied into a batch before the next: one buffer serves the whole body.
    reader.reuseBuffer()
    let ahead = 0
    let consumed = 0
    let over = false
    let wake: (() => void) | undefined
    const poke = () => {
      const resume = wake
      wake = undefined
      resume?.()
    }

    /** Ends the export once: a summary closes the stream, an error errors it and the body. */
    const end = (
      outcome: { summary: ExportSummary; sha256: string | undefined } | { error: unknown },
    ) => {
      if (over) return
      over = true
      thread.release()
      for (const buffer of spare.splice(0)) batches.give(buffer)
      for (const buffer of returning.splice(0)) batches.give(buffer)
      reader.release()
      if ('summary' in outcome) {
        controller.close()
        settle.resolve(outcome.summary)
        if (outcome.sha256 !== undefined) settleHash?.resolve(outcome.sha256)
        else settleHash?.reject(new Error('The export thread sent no SHA-256.'))
      } else {
        controller.error(outcome.error)
        settle.reject(outcome.error)
        settleHash?.reject(outcome.error)
        reader.cancel(outcome.error).catch(() => {})
      }
      poke()
    }

    /** Output bytes enqueued so far; those not still queued were taken by the consumer. */
    let enqueuedBytes = 0
    /** The thread's whole buffers handed to a consumer that gives chunks back. */
    const lent = new WeakSet<ArrayBufferLike>()
    const enqueue = (chunks: Uint8Array[]) => {
      for (const chunk of chunks) {
        enqueuedBytes += chunk.byteLength
        if (recycle && chunk.buffer.byteLength === BATCH_BYTES) lent.add(chunk.buffer)
        controller.enqueue(chunk)
      }
    }
    /** A chunk the consumer has written: its buffer holds a batch of this export, or the next's. */
    const giveBack = (chunk: Uint8Array) => {
      if (!lent.delete(chunk.buffer)) return
      if (over) batches.give(chunk)
      else if (spare.length < CHUNKS_AHEAD) spare.push(new Uint8Array(chunk.buffer))
      // More than the body's batches need: the file outgrows the body, so the thread needs them.
      else if (returning.length < CHUNKS_AHEAD) returning.push(new Uint8Array(chunk.buffer))
      else batches.give(chunk)
    }
    /** What the consumer has taken beyond what waits for it: large when it keeps up. */
    const batchLimit = () => {
      const queued = HIGH_WATER_MARK - (controller.desiredSize ?? 0)
      const taken = enqueuedBytes - queued
      return Math.min(BATCH_BYTES, Math.max(SMALL_BATCH_BYTES, taken - queued))
    }

    let batch: Uint8Array | null = null
    let batchPos = 0
    /** Batch buffers the thread or the consumer gave back, to be filled again. */
    const spare: Uint8Array[] = []
    /** Buffers beyond those, going back to the thread with the next batch to gather output in. */
    const returning: Uint8Array[] = []

    const onMessage = (message: FromThread) => {
      if (over) return
      switch (message.type) {
        case 'out':
          if (message.spent?.buffer.byteLength === BATCH_BYTES) {
            if (spare.length < CHUNKS_AHEAD) spare.push(new Uint8Array(message.spent.buffer))
            else batches.give(message.spent)
          }
          enqueue(message.chunks)
          if (message.progress) onProgress?.(...message.progress)
          if (message.ack) ahead--
          poke()
          break
        case 'done':
          enqueue(message.chunks)
          if (message.progress) onProgress?.(...message.progress)
          end({ summary: message.summary, sha256: message.sha256 })
          break
        case 'failed':
          end({ error: fromErrorData(message.error) })
          break
      }
    }

    /**
     * Moves the gathered bytes to the thread, their buffer with them. A batch below the largest
     * asks the thread to hand on its output at once, so a consumer that reads slowly or has only
     * begun gets output for every batch.
     */
    const sendBatch = () => {
      // Never once over: the thread may already run another export, whose job this would join.
      if (over || batch === null || batchPos === 0) return
      const bytes = batch.subarray(0, batchPos)
      batch = null
      batchPos = 0
      ahead++
      const handOn = bytes.byteLength < BATCH_BYTES
      const buffers = returning.splice(0)
      thread.send(
        { type: 'chunk', bytes, handOn, ...(buffers.length > 0 ? { buffers } : {}) },
        true,
      )
    }

    /** The next read of the body; a partly filled batch goes on if it does not come soon. */
    const read = async () => {
      const next = reader.read()
      if (batchPos === 0) return next
      const timer = setTimeout(sendBatch, BATCH_WAIT_MS)
      try {
        return await next
      } finally {
        clearTimeout(timer)
      }
    }

    /** Until the thread is at most CHUNKS_AHEAD behind and the consumer wants more. */
    const waitForRoom = async () => {
      while (!over && (ahead >= CHUNKS_AHEAD || (controller.desiredSize ?? 0) <= 0)) {
        await new Promise<void>((resume) => (wake = resume))
      }
    }

    /** Reads the body into the thread while there is room (waitForRoom). */
    const pump = async () => {
      try {
        for (;;) {
          await waitForRoom()
          if (over) return
          let next: ReadableStreamReadResult<Uint8Array>
          try {
            next = await read()
          } catch (error) {
            throw toReadFailure(error, consumed)
          }
          if (over) return
          if (next.done) {
            sendBatch()
            thread.send({ type: 'end' })
            return
          }
          const chunk = next.value
          consumed += chunk.byteLength
          let from = 0
          while (from < chunk.byteLength) {
            batch ??= spare.pop() ?? batches.take()
            const limit = batchLimit()
            const take = Math.min(chunk.byteLength - from, Math.max(0, limit - batchPos))
            batch.set(chunk.subarray(from, from + take), batchPos)
            batchPos += take
            from += take
            if (batchPos >= limit) {
              sendBatch()
              await waitForRoom()
              if (over) return
            }
          }
        }
      } catch (error) {
        end({ error })
      }
    }

    const stream = new ReadableStream<Uint8Array>(
      {
        start(c) {
          controller = c
          thread.begin(threadRequest, { message: onMessage, crash: (error) => end({ error }) })
          void pump()
        },
        pull() {
          poke()
        },
        cancel(reason) {
          end({ error: reason instanceof Error ? reason : new Error('The export was cancelled.') })
        },
      },
      { highWaterMark: HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
    )
    const exported = sha256 ? { stream, summary, sha256 } : { stream, summary }
    return recycle ? { ...exported, giveBack } : exported
  }
  exporter.warm = () => threads.warm()
  return exporter
}
