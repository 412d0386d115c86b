/**
 * Runs a resumable byte transform (the fused kernel, or a source feeding a writer) as a pulled
 * ReadableStream with a summary promise: bounded queue, errors and cancellation both ways.
 * Portable: Web streams only.
 */
import { BufferPool } from '../buffer-pool.ts'
import { GatewayError, UpstreamError } from '../errors.ts'
import { byobReaderOf } from '../upstream/response-body.ts'
import type { Export, ExportSummary } from './types.ts'

/** Bytes queued in the output stream before it stops pulling from the upstream. */
const HIGH_WATER_MARK = 256 * 1024
/** What one read of a byte-stream body asks for (a body that is no byte stream chooses). */
const READ_BYTES = 256 * 1024
/** The buffers read into, kept between exports. */
const readBuffers = new BufferPool(READ_BYTES, 8)

/** A transform that hands its output to `enqueue` as it goes. */
export interface ByteTransform {
  /** Chunks handed on so far; a pull reads input until this moves. */
  readonly emitted: number
  push(chunk: Uint8Array): void
  /** Hands on at once the output it has written but holds back to make fuller chunks. */
  handOn?(): void
  /**
   * True when `push` keeps nothing of the chunk it is given once it returns: the body is then
   * read into one buffer again and again (byte streams), not a fresh one per read.
   */
  readonly keepsNoInput?: boolean
  /** Takes back an output chunk nobody will read again (a transform that lends its output). */
  giveBack?(chunk: Uint8Array): void
  finish(): ExportSummary
}

/**
 * Streams `body` through the transform made by `create`. The output stream pulls from the
 * upstream only as the consumer reads, and cancelling it cancels the upstream.
 */
export function toExportStream(
  body: ReadableStream<Uint8Array>,
  create: (enqueue: (chunk: Uint8Array) => void) => ByteTransform | Promise<ByteTransform>,
): Export {
  let settle!: { resolve: (s: ExportSummary) => void; reject: (e: unknown) => void }
  const summary = new Promise<ExportSummary>((resolve, reject) => {
    settle = { resolve, reject }
  })
  summary.catch(() => {})
  let reader: BodyReader | undefined
  let transform: ByteTransform | undefined
  let consumed = 0
  let settled = false
  let cancelled = false

  let ready: Promise<void> = Promise.resolve()

  /** Makes the transform (its writer's code may load first) and takes the body's reader. */
  async function begin(controller: ReadableStreamDefaultController<Uint8Array>) {
    try {
      // Bytes a transform writes while it is made (a stored CSV's header columns reach the
      // writer at once) wait until it exists: workerd may pull as soon as one is enqueued.
      const early: Uint8Array[] = []
      let made = false
      reader = new BodyReader(body)
      // A cancel while the writer loads reaches the body through `reader`.
      transform = await create((chunk) => (made ? controller.enqueue(chunk) : early.push(chunk)))
      if (cancelled) return
      if (transform.keepsNoInput) reader.reuseBuffer()
      made = true
      for (const chunk of early) controller.enqueue(chunk)
    } catch (error) {
      // An empty separator or a locked body: the stream and the summary fail alike.
      // (Throwing here would throw from the constructor instead.)
      settled = true
      settle.reject(error)
      controller.error(error)
      reader?.cancel(error).catch(() => {})
    }
  }

  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        ready = begin(controller)
        return ready
      },
      async pull(controller) {
        // workerd may pull before an asynchronous start has settled.
        await ready
        if (settled || cancelled) return
        const t = transform!
        const r = reader!
        try {
          // One pull ends once at least one chunk went out (or the end): the queue's high-water
          // mark, not this loop, decides how far ahead of the consumer the transform runs.
          const before = t.emitted
          while (t.emitted === before) {
            let next: ReadableStreamReadResult<Uint8Array>
            try {
              next = await r.read()
            } catch (error) {
              throw toReadFailure(error, consumed)
            }
            if (cancelled) return
            const { done, value } = next
            if (done) {
              // The body's end hands the buffer back, empty: the next export reads into it.
              r.release()
              const result = t.finish()
              controller.close()
              settled = true
              settle.resolve(result)
              return
            }
            consumed += value.length
            t.push(value)
          }
        } catch (failure) {
          controller.error(failure)
          settled = true
          settle.reject(failure)
          r.cancel(failure).catch(() => {})
        }
      },
      async cancel(reason) {
        cancelled = true
        if (!settled) {
          settled = true
          settle.reject(
            reason instanceof Error ? reason : new Error('The CSV stream was cancelled.'),
          )
        }
        await reader?.cancel(reason)
      },
    },
    { highWaterMark: HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
  )
  return { stream, summary, giveBack: (chunk) => transform?.giveBack?.(chunk) }
}

/**
 * Reads a body as the export needs it: a byte stream through a BYOB reader, into buffers of its
 * own, and (`reuseBuffer`) into one buffer of a shared pool again and again, so a long body costs
 * no allocation per read; any other stream as it gives its chunks.
 */
export class BodyReader {
  private readonly byob: ReadableStreamBYOBReader | null
  private readonly plain: ReadableStreamDefaultReader<Uint8Array> | null
  /** The buffer read into again and again, once `reuseBuffer` was called. */
  private reused: Uint8Array | null = null

  constructor(body: ReadableStream<Uint8Array>) {
    this.byob = byobReaderOf(body)
    this.plain = this.byob ? null : body.getReader()
  }

  /**
   * From now on a byte-stream body is read into one pooled buffer: each chunk read holds its
   * bytes only until the next read, so the caller must be done with it (copied it) by then.
   */
  reuseBuffer(): void {
    if (this.byob && !this.reused) this.reused = readBuffers.take()
  }

  async read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    if (!this.byob) return this.plain!.read()
    const next = await this.byob.read(this.reused ?? new Uint8Array(READ_BYTES))
    // The read moved the buffer into the answer (the end's too); the next read fills it again.
    if (this.reused) this.reused = next.value ? new Uint8Array(next.value.buffer) : null
    return next
  }

  cancel(reason?: unknown): Promise<void> {
    return (this.byob ?? this.plain!).cancel(reason)
  }

  /** Gives the reused buffer back to the pool; the caller reads no more. */
  release(): void {
    // A buffer a read still holds is detached here, and the pool takes no detached buffer.
    if (this.reused) readBuffers.give(this.reused)
    this.reused = null
  }
}

/** A failure of the upstream body itself (a reset, a timeout) is an upstream failure too. */
export function toReadFailure(error: unknown, consumed: number): unknown {
  if (error instanceof GatewayError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new UpstreamError(
    `The upstream Kylin's answer broke off after ${consumed} bytes (${message}); no result was kept.`,
    { cause: error },
  )
}
