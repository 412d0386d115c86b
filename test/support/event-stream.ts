/**
 * A reader of `text/event-stream` bodies as the HTML spec parses them (fields, comments, blank
 * line ends a message), for tests of live events. Portable test helper.
 */
export type StreamMessage =
  | { type: 'event'; id?: string; event?: string; data: string; retry?: string }
  | { type: 'comment'; text: string }

/** The messages of an event stream, one at a time as they arrive; ends when the stream ends. */
export async function* readEventStream(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<StreamMessage> {
  const decoder = new TextDecoder()
  let buffered = ''
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      buffered += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n')
      let end: number
      while ((end = buffered.indexOf('\n\n')) !== -1) {
        const block = buffered.slice(0, end)
        buffered = buffered.slice(end + 2)
        yield* toMessages(block)
      }
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}

function* toMessages(block: string): Generator<StreamMessage> {
  const fields: Record<string, string> = {}
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      yield { type: 'comment', text: line.slice(1).trim() }
      continue
    }
    const colon = line.indexOf(':')
    const name = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (name === 'data') data.push(value)
    else if (name) fields[name] = value
  }
  if (data.length > 0 || Object.keys(fields).length > 0) {
    yield { type: 'event', ...fields, data: data.join('\n') }
  }
}

/** Status events: their id as a number and their JSON data. */
export interface StatusEvent {
  id: number
  data: { status: string; rows?: number; bytes?: number; info?: string; sha256?: string }
}

export function toStatusEvent(message: StreamMessage): StatusEvent | undefined {
  if (message.type !== 'event' || message.event !== 'status') return undefined
  return { id: Number(message.id), data: JSON.parse(message.data) as StatusEvent['data'] }
}
