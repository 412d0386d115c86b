/**
 * The export command's calls to the gateway: submit, status, the live events of a query and the
 * download request, each failure turned into a `CommandError` carrying the gateway's own message.
 * Node only (the command's own part; Node's fetch).
 */
import { EXIT } from './options.ts'
import { readChunks } from './stream-chunks.ts'

/** A failure the command reports as one line and exits with `exitCode`. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message)
  }
}

/** The Kylin 5 dialect: `query_id`, and `data` envelopes. */
const ACCEPT_JSON = 'application/vnd.apache.kylin-v4-public+json'
/** Status bodies are small; anything bigger is not the gateway. */
const MAX_JSON_BYTES = 1 << 20

export interface QueryStatus {
  status: 'RUNNING' | 'SUCCESSFUL' | 'FAILED' | 'MISSING'
  info: string
  /** Progress while RUNNING, the stored file's counts once SUCCESSFUL. */
  rows?: number
  bytes?: number
  sha256?: string
}

export interface GatewayClient {
  readonly base: string
  submit(body: Record<string, unknown>): Promise<{ id: string; status: QueryStatus }>
  status(id: string, waitSeconds?: number): Promise<QueryStatus>
  /** The open events stream (`text/event-stream`), or `null` where the gateway has none. */
  openEvents(
    id: string,
    lastEventId: string | undefined,
    signal: AbortSignal,
  ): Promise<Response | null>
  /** The result download, as Node's fetch answers it (status not checked). */
  download(id: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response>
  /** Reads a non-2xx answer into a `CommandError` with the gateway's message. */
  toFailure(response: Response, what: string): Promise<CommandError>
}

export interface GatewayClientOptions {
  url: string
  user: string
  password: string
  fetch?: typeof fetch
}

export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const doFetch = options.fetch ?? fetch
  const base = `${options.url}/kylin/api/async_query`
  const authorization = `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(`${options.user}:${options.password}`)))}`

  async function call(url: string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await doFetch(url, {
        ...init,
        headers: { Authorization: authorization, ...(init.headers as Record<string, string>) },
      })
    } catch (error) {
      throw new CommandError(
        `cannot reach the gateway at ${options.url} (${what}): ${describeCause(error)}`,
        EXIT.network,
      )
    }
  }

  async function toFailure(response: Response, what: string): Promise<CommandError> {
    const text = await readBounded(response).catch(() => '')
    let message = ''
    try {
      const body = JSON.parse(text) as { msg?: unknown }
      if (typeof body.msg === 'string') message = body.msg
    } catch {
      // Not an envelope: a proxy's page or Kylin's 401 page.
    }
    if (!message)
      message =
        response.status === 401
          ? 'the user name or password is wrong'
          : `HTTP ${response.status} ${response.statusText}`.trim()
    return new CommandError(`${what} failed: ${message} (HTTP ${response.status})`, EXIT.failed)
  }

  async function readData(response: Response, what: string): Promise<Record<string, unknown>> {
    if (!response.ok) throw await toFailure(response, what)
    let body: unknown
    try {
      body = JSON.parse(await readBounded(response))
    } catch {
      throw new CommandError(
        `${what}: the answer is not the gateway's JSON (is --url the gateway?)`,
        EXIT.failed,
      )
    }
    const data = (body as { data?: unknown } | null)?.data
    if (typeof data !== 'object' || data === null) {
      throw new CommandError(
        `${what}: the answer carries no data (is --url the gateway?)`,
        EXIT.failed,
      )
    }
    return data as Record<string, unknown>
  }

  return {
    base,
    async submit(body) {
      const response = await call(
        base,
        {
          method: 'POST',
          headers: { Accept: ACCEPT_JSON, 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        },
        'submit',
      )
      const data = await readData(response, 'submit')
      const id = data.query_id
      // A refused format or encoding is Kylin 5's FAILED answer with no query id.
      if (id === null && data.status === 'FAILED') {
        throw new CommandError(`submit failed: ${toStatus(data).info}`, EXIT.failed)
      }
      if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id)) {
        throw new CommandError(
          'submit: the answer names no query id (is --url the gateway?)',
          EXIT.failed,
        )
      }
      return { id, status: toStatus(data) }
    },
    async status(id, waitSeconds) {
      const query = waitSeconds === undefined ? '' : `?wait=${waitSeconds}`
      const response = await call(
        `${base}/${id}/status${query}`,
        { headers: { Accept: ACCEPT_JSON } },
        'status',
      )
      return toStatus(await readData(response, 'status'))
    },
    async openEvents(id, lastEventId, signal) {
      const headers: Record<string, string> = { Accept: 'text/event-stream' }
      if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId
      const response = await call(`${base}/${id}/events`, { headers, signal }, 'events')
      if (response.status === 404 || response.status === 405) {
        // An older gateway without events: the caller polls instead.
        await response.body?.cancel()
        return null
      }
      if (!response.ok) throw await toFailure(response, 'events')
      return response
    },
    download(id, headers, signal) {
      // identity: a gzipped answer has no ranges and another ETag, so it could not resume.
      return call(
        `${base}/${id}/result_download`,
        { headers: { 'Accept-Encoding': 'identity', ...headers }, signal },
        'download',
      )
    },
    toFailure,
  }
}

export function toStatus(data: Record<string, unknown>): QueryStatus {
  const status = data.status
  if (
    status !== 'RUNNING' &&
    status !== 'SUCCESSFUL' &&
    status !== 'FAILED' &&
    status !== 'MISSING'
  ) {
    throw new CommandError(
      `the gateway answered an unknown status ${JSON.stringify(status)}`,
      EXIT.failed,
    )
  }
  const count = (value: unknown) =>
    typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined
  return {
    status,
    info: typeof data.info === 'string' ? data.info : '',
    rows: count(data.rows ?? data.rows_written),
    bytes: count(data.bytes ?? data.bytes_written),
    sha256: typeof data.sha256 === 'string' ? data.sha256 : undefined,
  }
}

async function readBounded(response: Response): Promise<string> {
  if (!response.body) return ''
  const decoder = new TextDecoder()
  let text = ''
  let size = 0
  for await (const chunk of readChunks(response.body)) {
    size += chunk.byteLength
    if (size > MAX_JSON_BYTES) {
      throw new Error('answer too large')
    }
    text += decoder.decode(chunk, { stream: true })
  }
  return text + decoder.decode()
}

/** Node's fetch hides the socket error in `cause`. */
export function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ''}`
  return (error as Error).message ?? String(error)
}
