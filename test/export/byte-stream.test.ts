/**
 * The export stream around a byte transform: bytes a transform writes while it is being made come
 * out first and in order, before it has been pulled for any input; a transform made
 * asynchronously (its writer's code loading) is waited for, and a cancel meanwhile reaches the
 * body. A byte-stream body is read into one buffer again and again when the transform keeps
 * nothing of its input, and into a fresh buffer per read when it may. Portable.
 */
import { describe, expect, it } from 'vitest'
import { toExportStream, type ByteTransform } from '../../src/export/byte-stream.ts'

const encoder = new TextEncoder()

function bodyOf(...parts: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(encoder.encode(part))
      controller.close()
    },
  })
}

async function textOf(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text()
}

describe('export/byte-stream', () => {
  it('hands on what a transform writes while it is made, before any input', async () => {
    const { stream, summary } = toExportStream(bodyOf('a', 'b'), (enqueue) => {
      enqueue(encoder.encode('<head>'))
      enqueue(encoder.encode('<more>'))
      const transform: ByteTransform & { emitted: number } = {
        emitted: 2,
        push(chunk) {
          transform.emitted++
          enqueue(chunk)
        },
        finish() {
          enqueue(encoder.encode('<end>'))
          return { metadata: { names: [], types: [] }, rows: 0, bytes: 0, partial: false }
        },
      }
      return transform
    })
    expect(await textOf(stream)).toBe('<head><more>ab<end>')
    await expect(summary).resolves.toMatchObject({ rows: 0 })
  })

  function echo(enqueue: (chunk: Uint8Array) => void): ByteTransform {
    const transform = {
      emitted: 0,
      push(chunk: Uint8Array) {
        transform.emitted++
        enqueue(chunk)
      },
      finish() {
        return { metadata: { names: [], types: [] }, rows: 0, bytes: 0, partial: false }
      },
    }
    return transform
  }

  it('waits for a transform made asynchronously, then streams through it', async () => {
    const { stream } = toExportStream(bodyOf('x', 'y'), async (enqueue) => {
      await new Promise((resolve) => setTimeout(resolve, 20))
      return echo(enqueue)
    })
    expect(await textOf(stream)).toBe('xy')
  })

  it('cancels the body when the stream is cancelled while the transform is being made', async () => {
    let cancelled: unknown
    const body = new ReadableStream<Uint8Array>({
      cancel(reason) {
        cancelled = reason
      },
    })
    let made: () => void = () => {}
    const { stream, summary } = toExportStream(body, (enqueue) => {
      return new Promise<ByteTransform>((resolve) => (made = () => resolve(echo(enqueue))))
    })
    await stream.cancel(new Error('client went away'))
    made()
    await expect(summary).rejects.toThrow('client went away')
    expect(cancelled).toBeInstanceOf(Error)
  })

  describe('a byte-stream body', () => {
    /** A byte stream of `parts`, each read written into the reader's own buffer when it has one. */
    function byteBodyOf(parts: Uint8Array[]): ReadableStream<Uint8Array> {
      let next = 0
      let offset = 0
      return new ReadableStream({
        type: 'bytes',
        pull(controller: ReadableByteStreamController) {
          const part = parts[next]
          if (!part) {
            controller.close()
            controller.byobRequest?.respond(0)
            return
          }
          const request = controller.byobRequest
          if (!request) {
            controller.enqueue(part.slice(offset))
            next++
            offset = 0
            return
          }
          const view = request.view!
          const target = new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
          const n = Math.min(target.length, part.length - offset)
          target.set(part.subarray(offset, offset + n))
          offset += n
          if (offset === part.length) {
            next++
            offset = 0
          }
          request.respond(n)
        },
      })
    }

    /** A transform that copies out what it gets and records the buffers it was given. */
    function recording(keepsNoInput: boolean) {
      const buffers: ArrayBufferLike[] = []
      const kept: Uint8Array[] = []
      return {
        buffers,
        kept,
        create(enqueue: (chunk: Uint8Array) => void): ByteTransform {
          const transform = {
            emitted: 0,
            keepsNoInput,
            push(chunk: Uint8Array) {
              buffers.push(chunk.buffer)
              // What a transform that keeps input does: holds the very chunk.
              kept.push(chunk)
              enqueue(chunk.slice())
              transform.emitted++
            },
            finish() {
              return { metadata: { names: [], types: [] }, rows: 0, bytes: 0, partial: false }
            },
          }
          return transform
        },
      }
    }

    const parts = Array.from({ length: 20 }, (_, i) => encoder.encode(`part ${i} `.repeat(3000)))
    const whole = parts.map((part) => new TextDecoder().decode(part)).join('')

    it('reads into one buffer again and again for a transform that keeps no input', async () => {
      const transform = recording(true)
      const { stream } = toExportStream(byteBodyOf(parts), (enqueue) => transform.create(enqueue))
      expect(await textOf(stream)).toBe(whole)
      // Each read moved the one buffer into the next: every earlier one is detached.
      expect(transform.buffers.length).toBeGreaterThan(5)
      expect(transform.buffers.slice(0, -1).every((buffer) => buffer.byteLength === 0)).toBe(true)
    })

    it('reads into a fresh buffer each time for a transform that may keep input', async () => {
      const transform = recording(false)
      const { stream } = toExportStream(byteBodyOf(parts), (enqueue) => transform.create(enqueue))
      expect(await textOf(stream)).toBe(whole)
      expect(new Set(transform.buffers).size).toBe(transform.buffers.length)
      const kept = transform.kept.map((chunk) => new TextDecoder().decode(chunk)).join('')
      expect(kept).toBe(whole)
    })
  })
})
