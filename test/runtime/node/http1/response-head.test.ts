/**
 * The response head of the socket reader: where it ends, its status and fields, and the body
 * framing it announces (RFC 9112 §6.3), refusing what would make the body's end uncertain.
 */
import { describe, expect, it } from 'vitest'
import { FramingError } from '../../../../src/runtime/node/http1/body-framing.ts'
import {
  MAX_HEAD_BYTES,
  findHeadEnd,
  framingOf,
  parseHead,
} from '../../../../src/runtime/node/http1/response-head.ts'

const bytes = (text: string) => new TextEncoder().encode(text)

function head(fields: string, status = '200 OK') {
  return parseHead(bytes(`HTTP/1.1 ${status}\r\n${fields}\r\n`))
}

describe('runtime/node/http1/response-head', () => {
  it('finds the empty line after the fields, with CRLF or bare LF', () => {
    const text = 'HTTP/1.1 200 OK\r\nA: 1\r\n\r\nbody'
    expect(findHeadEnd(bytes(text))).toBe(text.indexOf('body'))
    const bare = 'HTTP/1.1 200 OK\nA: 1\n\nbody'
    expect(findHeadEnd(bytes(bare))).toBe(bare.indexOf('body'))
    expect(findHeadEnd(bytes('HTTP/1.1 200 OK\r\nA: 1\r\n'))).toBe(-1)
  })

  it('refuses a head that never ends within its bound', () => {
    const long = bytes(`HTTP/1.1 200 OK\r\nA: ${'x'.repeat(MAX_HEAD_BYTES)}`)
    expect(() => findHeadEnd(long)).toThrow(FramingError)
  })

  it('reads the status, its text and the fields in order, values trimmed and as octets', () => {
    const text =
      'HTTP/1.1 404 Not Found\r\nSet-Cookie: a=1\r\nset-cookie:  b=2 \r\nX: caf\xe9\r\n\r\n'
    const parsed = parseHead(Buffer.from(text, 'latin1'))
    expect(parsed).toEqual({
      status: 404,
      statusText: 'Not Found',
      fields: [
        ['Set-Cookie', 'a=1'],
        ['set-cookie', 'b=2'],
        ['X', 'caf\xe9'],
      ],
    })
  })

  it.each([
    ['no HTTP/1 status line', 'HTTP/2 200\r\n\r\n'],
    ['a field without a colon', 'HTTP/1.1 200 OK\r\nbroken\r\n\r\n'],
    ['a field name with a space', 'HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n'],
  ])('refuses %s', (_, text) => {
    expect(() => parseHead(bytes(text))).toThrow(FramingError)
  })

  it('frames by chunked coding before any Content-Length', () => {
    expect(framingOf(head('Transfer-Encoding: chunked\r\nContent-Length: 5\r\n'), 'POST')).toEqual({
      kind: 'chunked',
    })
  })

  it('frames by Content-Length, repeated values only when they agree', () => {
    expect(framingOf(head('Content-Length: 12\r\n'), 'GET')).toEqual({ kind: 'length', length: 12 })
    expect(framingOf(head('Content-Length: 7, 7\r\n'), 'GET')).toEqual({
      kind: 'length',
      length: 7,
    })
    expect(() => framingOf(head('Content-Length: 7\r\nContent-Length: 8\r\n'), 'GET')).toThrow(
      FramingError,
    )
    expect(() => framingOf(head('Content-Length: -1\r\n'), 'GET')).toThrow(FramingError)
  })

  it('reads to the connection close without either, and nothing for HEAD, 204 and 304', () => {
    expect(framingOf(head(''), 'GET')).toEqual({ kind: 'close' })
    expect(framingOf(head('Content-Length: 9\r\n'), 'HEAD')).toEqual({ kind: 'length', length: 0 })
    expect(framingOf(head('', '204 No Content'), 'GET')).toEqual({ kind: 'length', length: 0 })
    expect(framingOf(head('', '304 Not Modified'), 'GET')).toEqual({ kind: 'length', length: 0 })
  })

  it('refuses a transfer coding it cannot undo', () => {
    expect(() => framingOf(head('Transfer-Encoding: gzip, chunked\r\n'), 'GET')).toThrow(
      /gzip, chunked/,
    )
  })
})
