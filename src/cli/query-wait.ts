/**
 * Waits for a submitted query to end, telling its progress: the gateway's live events
 * (`GET /{id}/events`, reconnected with Last-Event-ID when cut), or `status?wait=` where a
 * gateway has no events. Node only (the command's own part).
 */
import { CommandError, toStatus, type GatewayClient, type QueryStatus } from './gateway-client.ts'
import { EXIT } from './options.ts'
import { readChunks } from './stream-chunks.ts'

/** Seconds a status call may wait (the gateway caps it at 60). */
const WAIT_SECONDS = 30
/** An event is a few hundred bytes; a line past this is not the gateway's. */
const MAX_EVENT_CHARS = 64 * 1024
const RECONNECT_DELAY_MS = 500

export type ProgressListener = (progress: { rows: number; bytes: number }) => void

/** The final status of query `id`: SUCCESSFUL, or throws with the reason it is not. */
export async function waitForResult(
  client: GatewayClient,
  id: string,
  onProgress: ProgressListener,
): Promise<QueryStatus> {
  const ended = await waitForEnd(client, id, onProgress)
  if (ended.status === 'SUCCESSFUL') {
    // The final status, with the stored file's rows, bytes and SHA-256.
    return ended.sha256 !== undefined && ended.bytes !== undefined ? ended : client.status(id)
  }
  if (ended.status === 'MISSING') {
    throw new CommandError(
      `query ${id} is gone: ${ended.info || 'deleted, or unknown to the gateway'}`,
      EXIT.failed,
    )
  }
  throw new CommandError(`query ${id} failed: ${ended.info}`, EXIT.failed)
}

async function waitForEnd(
  client: GatewayClient,
  id: string,
  onProgress: ProgressListener,
): Promise<QueryStatus> {
  let lastEventId: string | undefined
  for (;;) {
    const controller = new AbortController()
    let response: Response | null
    try {
      response = await client.openEvents(id, lastEventId, controller.signal)
    } catch (error) {
      if (error instanceof CommandError && error.exitCode !== EXIT.network) throw error
      response = null
    }
    if (!response?.body) return pollUntilEnd(client, id, onProgress)
    try {
      for await (const event of readEvents(response.body)) {
        if (event.id !== undefined) lastEventId = event.id
        if (event.name !== 'status') continue
        const status = toStatus(JSON.parse(event.data) as Record<string, unknown>)
        if (status.status === 'RUNNING')
          onProgress({ rows: status.rows ?? 0, bytes: status.bytes ?? 0 })
        else return status
      }
    } catch (error) {
      if (error instanceof CommandError) throw error
      // A cut stream: ask once, then listen again from the last event seen.
    } finally {
      controller.abort()
    }
    const now = await client.status(id)
    if (now.status !== 'RUNNING') return now
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_DELAY_MS))
  }
}

async function pollUntilEnd(
  client: GatewayClient,
  id: string,
  onProgress: ProgressListener,
): Promise<QueryStatus> {
  for (;;) {
    const status = await client.status(id, WAIT_SECONDS)
    if (status.status !== 'RUNNING') return status
    onProgress({ rows: status.rows ?? 0, bytes: status.bytes ?? 0 })
  }
}

interface ServerEvent {
  id: string | undefined
  name: string
  data: string
}

/** Server-Sent Events as the HTML standard reads them (fields, blank line ends an event). */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerEvent> {
  const decoder = new TextDecoder()
  let buffer = ''
  let id: string | undefined
  let name = ''
  let data: string[] = []
  /** The event's data so far: bounded as the unread buffer is. */
  let dataChars = 0
  for await (const chunk of readChunks(body)) {
    buffer += decoder.decode(chunk, { stream: true })
    let newline: number
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline)
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1))
      if (line === '') {
        if (data.length > 0) yield { id, name: name || 'message', data: data.join('\n') }
        name = ''
        data = []
        dataChars = 0
        continue
      }
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'data') {
        data.push(value)
        dataChars += value.length
        if (dataChars > MAX_EVENT_CHARS) throw new Error('event too long')
      } else if (field === 'event') name = value
      else if (field === 'id') id = value
    }
    if (buffer.length > MAX_EVENT_CHARS) throw new Error('event too long')
  }
}
