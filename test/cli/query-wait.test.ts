/**
 * The Server-Sent Events reader of the export command: fields, comments, events split across
 * chunks, the last event id, and a bound on a line that never ends.
 */
import { describe, expect, it } from 'vitest'
import { readEvents } from '../../src/cli/query-wait.ts'

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
      controller.close()
    },
  })
}

async function collect(chunks: string[]) {
  const events = []
  for await (const event of readEvents(streamOf(chunks))) events.push(event)
  return events
}

describe('readEvents', () => {
  it('reads the gateway stream, split anywhere', async () => {
    const text =
      'retry: 3000\n\n: ping\n\nid: 3\nevent: status\ndata: {"status":"RUNNING","rows":1}\n\n' +
      'id: 5\nevent: status\ndata: {"status":"SUCCESSFUL"}\n\n'
    for (const size of [1, 7, text.length]) {
      const chunks = []
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size))
      expect(await collect(chunks)).toEqual([
        { id: '3', name: 'status', data: '{"status":"RUNNING","rows":1}' },
        { id: '5', name: 'status', data: '{"status":"SUCCESSFUL"}' },
      ])
    }
  })

  it('joins data lines and names an unnamed event "message"', async () => {
    expect(await collect(['data: a\r\ndata:b\r\n\r\n'])).toEqual([
      { id: undefined, name: 'message', data: 'a\nb' },
    ])
  })

  it('fails on a line past its bound rather than growing', async () => {
    await expect(collect([`data: ${'x'.repeat(70_000)}`])).rejects.toThrow('event too long')
  })
})
