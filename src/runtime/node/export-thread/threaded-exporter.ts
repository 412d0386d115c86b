/**
 * Exports on export threads (export-threads.ts): the body is read here and handed over a few
 * chunks ahead, the file's bytes come back as a stream, so reading, transcoding and storing run
 * on two cores at once. The same Export as exportResult gives, with the same bytes; when every
 * thread is busy, the export runs here. Node only.
 */
import { toReadFailure } from '../../../export/byte-stream.ts'
import { exportResult, type Exporter } from '../../../export/export-result.ts'
import type { ExportSummary } from '../../../export/types.ts'
import type { ExportThreads } from './export-threads.ts'
import { fromErrorData, type FromThread } from './messages.ts'

/** Body chunks handed to a thread and not yet answered: what bounds the memory between the two. */
const CHUNKS_AHEAD = 4
/** Output bytes queued for the consumer before the body is read further. */
const HIGH_WATER_MARK = 256 * 1024

export function createThreadedExporter(threads: ExportThreads): Exporter {
  return (body, request) => {
    const thread = threads.acquire()
    if (!thread) return exportResult(body, request)
    const { onProgress, ...threadRequest } = request

    let settle!: { resolve: (s: ExportSummary) => void; reject: (e: unknown) => void }
    const summary = new Promise<ExportSummary>((resolve, reject) => {
      settle = { resolve, reject }
    })
    summary.catch(() => {})
    let controller!: ReadableStreamDefaultController<Uint8Array>
    const reader = body.getReader()
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
    const end = (outcome: { summary: ExportSummary } | { error: unknown }) => {
      if (over) return
      over = true
      thread.release()
      if ('summary' in outcome) {
        controller.close()
        settle.resolve(outcome.summary)
      } else {
        controller.error(outcome.error)
        settle.reject(outcome.error)
        reader.cancel(outcome.error).catch(() => {})
      }
      poke()
    }

    const enqueue = (chunks: Uint8Array[]) => {
      for (const chunk of chunks) controller.enqueue(chunk)
    }

    const onMessage = (message: FromThread) => {
      if (over) return
      switch (message.type) {
        case 'out':
          enqueue(message.chunks)
          if (message.progress) onProgress?.(...message.progress)
          if (message.ack) ahead--
          poke()
          break
        case 'done':
          enqueue(message.chunks)
          if (message.progress) onProgress?.(...message.progress)
          end({ summary: message.summary })
          break
        case 'failed':
          end({ error: fromErrorData(message.error) })
          break
      }
    }

    /** Reads the body into the thread while it is at most CHUNKS_AHEAD behind and the consumer keeps up. */
    const pump = async () => {
      try {
        for (;;) {
          while (!over && (ahead >= CHUNKS_AHEAD || (controller.desiredSize ?? 0) <= 0)) {
            await new Promise<void>((resume) => (wake = resume))
          }
          if (over) return
          let next: ReadableStreamReadResult<Uint8Array>
          try {
            next = await reader.read()
          } catch (error) {
            throw toReadFailure(error, consumed)
          }
          if (over) return
          if (next.done) {
            thread.send({ type: 'end' })
            return
          }
          consumed += next.value.byteLength
          ahead++
          thread.send({ type: 'chunk', bytes: next.value })
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
    return { stream, summary }
  }
}
