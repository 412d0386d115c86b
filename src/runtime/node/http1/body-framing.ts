/**
 * The framing of an HTTP/1.1 response body (RFC 9112 §6–7): a Content-Length, chunked
 * transfer coding, or everything until the connection closes. Resumable at any byte: it copies
 * the body's own bytes out of what the connection read, into a buffer the reader owns. Node only
 * in use (the socket reader), plain bytes here.
 */

/** How the body's end is known. */
export type Framing = { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' }

/** A chunk-size line longer than this is not a chunk size (16 hex digits and an extension). */
const MAX_SIZE_LINE = 4096
/** Trailer fields are read and dropped; more than this of them is not a trailer. */
const MAX_TRAILER_BYTES = 64 * 1024

const CR = 13
const LF = 10

const enum Chunk {
  /** Hex digits of the size. */
  Size,
  /** After the size: an extension, up to the line's end. */
  Extension,
  Data,
  /** The CRLF after a chunk's data. */
  DataCr,
  DataLf,
  /** A trailer line (or the empty line that ends the body). */
  Trailer,
  Done,
}

/** Raised for framing no server sends: the body is not to be trusted. */
export class FramingError extends Error {
  override readonly name = 'FramingError'
}

export class BodyFraming {
  /** Body bytes still to come in the current chunk (chunked) or the whole body (length). */
  private left: number
  private state: Chunk
  private size = 0
  private lineBytes = 0
  private trailerBytes = 0
  private readonly kind: Framing['kind']
  /** How many body bytes the last `decode` wrote. */
  written = 0

  constructor(framing: Framing) {
    this.kind = framing.kind
    this.left = framing.kind === 'length' ? framing.length : 0
    this.state = framing.kind === 'length' && framing.length === 0 ? Chunk.Done : Chunk.Size
  }

  /** Whether the body has ended by its framing (never for a body that ends with the connection). */
  get done(): boolean {
    return this.state === Chunk.Done
  }

  /** Whether the connection closing now ends the body cleanly. */
  get endsWithClose(): boolean {
    return this.kind === 'close'
  }

  /**
   * Reads `input[from, end)` and copies the body bytes in it to `target` from `at`, until the
   * input is used up, the target is full or the body ends. Answers where reading stopped in the
   * input; `written` says how many bytes went to the target.
   */
  decode(input: Uint8Array, from: number, end: number, target: Uint8Array, at: number): number {
    let j = from
    let out = at
    const room = target.length
    if (this.kind === 'close') {
      const n = Math.min(end - j, room - out)
      target.set(input.subarray(j, j + n), out)
      this.written = n
      return j + n
    }
    if (this.kind === 'length') {
      const n = Math.min(end - j, room - out, this.left)
      target.set(input.subarray(j, j + n), out)
      this.left -= n
      if (this.left === 0) this.state = Chunk.Done
      this.written = n
      return j + n
    }
    while (j < end && this.state !== Chunk.Done) {
      const b = input[j]!
      switch (this.state) {
        case Chunk.Size: {
          const digit = hexValue(b)
          if (digit >= 0 && this.lineBytes < 16) {
            this.size = this.size * 16 + digit
            this.lineBytes++
            j++
          } else if (this.lineBytes === 0) {
            throw new FramingError('a chunk size was expected')
          } else {
            this.state = Chunk.Extension
          }
          break
        }
        case Chunk.Extension:
          j++
          if (++this.lineBytes > MAX_SIZE_LINE)
            throw new FramingError('a chunk-size line is too long')
          if (b === LF) {
            this.lineBytes = 0
            if (this.size === 0) {
              this.state = Chunk.Trailer
            } else {
              this.left = this.size
              this.size = 0
              this.state = Chunk.Data
            }
          }
          break
        case Chunk.Data: {
          if (out === room) {
            this.written = out - at
            return j
          }
          const n = Math.min(end - j, room - out, this.left)
          target.set(input.subarray(j, j + n), out)
          out += n
          j += n
          this.left -= n
          if (this.left === 0) this.state = Chunk.DataCr
          break
        }
        case Chunk.DataCr:
          if (b !== CR) throw new FramingError('a chunk did not end with CRLF')
          j++
          this.state = Chunk.DataLf
          break
        case Chunk.DataLf:
          if (b !== LF) throw new FramingError('a chunk did not end with CRLF')
          j++
          this.state = Chunk.Size
          break
        case Chunk.Trailer:
          j++
          if (++this.trailerBytes > MAX_TRAILER_BYTES)
            throw new FramingError('the trailer is too long')
          if (b === LF) {
            // An empty line (just CRLF, or a bare LF) ends the body.
            if (this.lineBytes === 0) this.state = Chunk.Done
            this.lineBytes = 0
          } else if (b !== CR) {
            this.lineBytes++
          }
          break
      }
    }
    this.written = out - at
    return j
  }
}

function hexValue(b: number): number {
  if (b >= 48 && b <= 57) return b - 48
  const lower = b | 0x20
  if (lower >= 97 && lower <= 102) return lower - 87
  return -1
}
