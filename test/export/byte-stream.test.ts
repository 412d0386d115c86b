/**
 * The export stream around a byte transform: bytes a transform writes while it is being made come
 * out first and in order, before it has been pulled for any input; a transform made
 * asynchronously (its writer's code loading) is waited for, and a cancel meanwhile reaches the
 * body. Portable.
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
})
