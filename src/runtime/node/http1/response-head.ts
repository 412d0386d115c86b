/**
 * The head of an HTTP/1.1 response (RFC 9112 §4–6): status line and header fields, read from
 * the bytes of a connection until the empty line, bounded; and the body framing it announces.
 * Node only in use (the socket reader).
 */
import { FramingError, type Framing } from './body-framing.ts'

/** As undici's default: a head beyond this is refused. */
export const MAX_HEAD_BYTES = 16 * 1024

export interface ResponseHead {
  status: number
  statusText: string
  /** Field names and values as they came, in order. */
  fields: [string, string][]
}

/**
 * Finds the end of the head in `bytes` (the empty line): the index just past it, or -1 when
 * more bytes are needed. Throws when the head outgrows MAX_HEAD_BYTES.
 */
export function findHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 10) continue
    // LF then CRLF or LF: the empty line.
    if (bytes[i + 1] === 10) return i + 2
    if (bytes[i + 1] === 13 && bytes[i + 2] === 10) return i + 3
  }
  if (bytes.length > MAX_HEAD_BYTES) throw new FramingError('the response head is too long')
  return -1
}

/** Parses a head found by `findHeadEnd` (its bytes, the empty line included). */
export function parseHead(bytes: Uint8Array): ResponseHead {
  // Field values are octets (RFC 9110 §5.5): latin1 keeps each as one character.
  const lines = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('latin1')
    .split(/\r?\n/)
  const statusLine = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? '')
  if (!statusLine) throw new FramingError('the status line is not HTTP/1.x')
  const fields: [string, string][] = []
  for (const line of lines.slice(1)) {
    if (line === '') continue
    const colon = line.indexOf(':')
    if (colon <= 0 || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(line.slice(0, colon))) {
      throw new FramingError('a header field is malformed')
    }
    fields.push([line.slice(0, colon), line.slice(colon + 1).trim()])
  }
  return { status: Number(statusLine[1]), statusText: statusLine[2] ?? '', fields }
}

/** The body framing of a response to a request of `method` (RFC 9112 §6.3). */
export function framingOf(head: ResponseHead, method: string): Framing {
  const { status } = head
  if (method === 'HEAD' || status === 204 || status === 304 || status < 200) {
    return { kind: 'length', length: 0 }
  }
  const values = (name: string) =>
    head.fields.filter(([field]) => field.toLowerCase() === name).map(([, value]) => value)
  const codings = values('transfer-encoding')
    .flatMap((value) => value.split(','))
    .map((coding) => coding.trim().toLowerCase())
    .filter(Boolean)
  if (codings.length > 0) {
    // Only `chunked`, last, frames a body; any other coding we cannot undo.
    if (codings.length !== 1 || codings[0] !== 'chunked') {
      throw new FramingError(`the transfer coding "${codings.join(', ')}" is not supported`)
    }
    return { kind: 'chunked' }
  }
  const lengths = new Set(
    values('content-length')
      .flatMap((value) => value.split(','))
      .map((v) => v.trim()),
  )
  if (lengths.size === 0) return { kind: 'close' }
  const [length] = lengths
  if (lengths.size !== 1 || !/^\d{1,15}$/.test(length!)) {
    throw new FramingError('the Content-Length is not one number')
  }
  return { kind: 'length', length: Number(length) }
}
