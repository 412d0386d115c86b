/**
 * The export stream around a byte transform: bytes a transform writes while it is being made come
 * out first and in order, before it has been pulled for any input. Portable.
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
})
