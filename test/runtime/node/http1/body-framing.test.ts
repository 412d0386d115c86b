/**
 * The body framing of the socket reader: a chunked body (extensions, trailers) comes out as the
 * bytes that were framed, however the connection splits it and however small the reader's
 * buffer; Content-Length and close-delimited bodies likewise; broken framing is refused.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BodyFraming,
  FramingError,
  type Framing,
} from '../../../../src/runtime/node/http1/body-framing.ts'

const encoder = new TextEncoder()

function chunked(parts: Uint8Array[], trailer = ''): Uint8Array {
  const pieces: Uint8Array[] = []
  for (const part of parts) {
    if (part.length === 0) continue
    pieces.push(
      encoder.encode(`${part.length.toString(16)};ext=1\r\n`),
      part,
      encoder.encode('\r\n'),
    )
  }
  pieces.push(encoder.encode(`0\r\n${trailer}\r\n`))
  return Buffer.concat(pieces)
}

/** Feeds `wire` in pieces at `cuts` to a framing, reading into targets of `room` bytes. */
function decodeAll(framing: Framing, wire: Uint8Array, cuts: number[], room: number) {
  const decoder = new BodyFraming(framing)
  const out: number[] = []
  const bounds = [...new Set([0, ...cuts.map((c) => c % (wire.length + 1)), wire.length])].sort(
    (a, b) => a - b,
  )
  let consumed = 0
  for (let i = 1; i < bounds.length && !decoder.done; i++) {
    const piece = wire.subarray(bounds[i - 1], bounds[i])
    let at = 0
    while (at < piece.length && !decoder.done) {
      const target = new Uint8Array(room)
      at = decoder.decode(piece, at, piece.length, target, 0)
      out.push(...target.subarray(0, decoder.written))
    }
    consumed += at
  }
  return { body: Uint8Array.from(out), done: decoder.done, consumed }
}

describe('runtime/node/http1/body-framing', () => {
  it('gives back a chunked body whole, whatever the splits and the reader buffer size', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.nat(5000), { maxLength: 12 }),
        fc.integer({ min: 1, max: 400 }),
        fc.constantFrom('', 'Expires: never\r\n', 'A: 1\r\nB: 2\r\n'),
        (parts, cuts, room, trailer) => {
          const wire = chunked(parts, trailer)
          const { body, done, consumed } = decodeAll({ kind: 'chunked' }, wire, cuts, room)
          expect(done).toBe(true)
          expect(consumed).toBe(wire.length)
          expect(Buffer.from(body).equals(Buffer.concat(parts))).toBe(true)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('stops at the end of a chunked body and leaves what follows unread', () => {
    const wire = Buffer.concat([chunked([encoder.encode('abc')]), encoder.encode('HTTP/1.1')])
    const decoder = new BodyFraming({ kind: 'chunked' })
    const target = new Uint8Array(100)
    const at = decoder.decode(wire, 0, wire.length, target, 0)
    expect(decoder.done).toBe(true)
    expect(at).toBe(wire.length - 'HTTP/1.1'.length)
    expect(Buffer.from(target.subarray(0, decoder.written)).toString()).toBe('abc')
  })

  it('reads a Content-Length body to its length, whatever the splits', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.nat(3000), { maxLength: 8 }),
        fc.integer({ min: 1, max: 500 }),
        (body, cuts, room) => {
          const wire = Buffer.concat([body, encoder.encode('extra')])
          const got = decodeAll({ kind: 'length', length: body.length }, wire, cuts, room)
          expect(got.done).toBe(true)
          expect(Buffer.from(got.body).equals(body)).toBe(true)
        },
      ),
    )
  })

  it('takes every byte of a close-delimited body and never ends it itself', () => {
    const decoder = new BodyFraming({ kind: 'close' })
    const target = new Uint8Array(4)
    const at = decoder.decode(encoder.encode('abcdef'), 0, 6, target, 0)
    expect([at, decoder.written, decoder.done, decoder.endsWithClose]).toEqual([4, 4, false, true])
  })

  it('is done at once for an empty Content-Length body', () => {
    expect(new BodyFraming({ kind: 'length', length: 0 }).done).toBe(true)
  })

  it.each([
    ['a chunk size that is no hex number', 'zz\r\nabc\r\n0\r\n\r\n'],
    ['a chunk without its CRLF', '3\r\nabcX\r\n0\r\n\r\n'],
    ['a chunk-size line without end', `1;${'x'.repeat(5000)}`],
  ])('refuses %s', (_, wire) => {
    const decoder = new BodyFraming({ kind: 'chunked' })
    const bytes = encoder.encode(wire)
    expect(() => decoder.decode(bytes, 0, bytes.length, new Uint8Array(100), 0)).toThrow(
      FramingError,
    )
  })
})
