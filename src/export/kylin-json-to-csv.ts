/**
 * Upstream `SQLResponse` JSON bytes → Kylin CSV bytes, streamed in bounded memory, plus column
 * metadata and counts. Portable: Web streams and Uint8Array only (Node and Workers; no Buffer).
 */
import { encodeCsvHeader } from './csv/encode.ts'
import { GatewayError, UpstreamError } from '../errors.ts'
import type { ColumnMetadata } from '../domain/query.ts'
import { isKylinEnvelope, toEnvelopeFailure, toOneLine } from '../upstream/kylin-error.ts'

export interface TranscodeOptions {
  separator: string
  includeHeader: boolean
  /** Called as rows are written, with running totals. */
  onProgress?: (rows: number, bytes: number) => void
}

export interface TranscodeSummary {
  metadata: ColumnMetadata
  rows: number
  bytes: number
  partial: boolean
}

export interface Transcoding {
  /** The CSV bytes. Errors (upstream exception, Kylin envelope, bad JSON) error this stream. */
  csv: ReadableStream<Uint8Array>
  /** Settles when the CSV stream has ended: the summary, or the same error. */
  summary: Promise<TranscodeSummary>
}

/*
 * Hand-written because a measured hot path needs it: JSON.parse of the whole body runs at
 * ~20–30 MB/s here and holds the whole answer (~20 M strings) in memory; generic streaming JSON
 * parsers run at 5–35 MB/s (reference/toolchain.md §7). This parser never builds a JS string for
 * a cell: JSON string content without escapes is UTF-8 already, so it is copied byte for byte
 * into the CSV output (4 bytes at a time), and only escapes are decoded, to the UTF-8 that
 * JSON.parse + TextEncoder would give (surrogate pairs joined, lone surrogates → U+FFFD).
 * Quoting is decided after a cell is written, from flags gathered while copying; the rare quoted
 * cell is then shifted in place. Two layers: `fastRows` for whole rows inside a chunk, and a
 * resumable state machine (`parse`) for everything else, any chunk split included. Everything
 * outside `results` (columnMetas, isException, …) is small: its bytes are collected and handed to
 * JSON.parse, which also validates them.
 *
 * Deliberate differences from the JSON.parse reference: number cells keep their JSON text
 * (`1.50` stays `1.50`, no digits lost); raw bytes inside strings are not re-validated as UTF-8
 * (invalid bytes pass through, where the reference would write U+FFFD; Kylin writes valid
 * UTF-8); a separator holding a lone surrogate is matched as U+FFFD.
 *
 * Memory bounds (each one fails with an UpstreamError rather than growing further):
 * - output: one 64 KiB buffer; a single cell grows it, up to MAX_CELL_BYTES (64 MiB of CSV);
 * - the non-`results` members of the object: MAX_SIDE_BYTES (64 MiB) in total;
 * - rows held back because `results` came before `columnMetas` while a header is wanted:
 *   MAX_HELD_BYTES (64 MiB of CSV), see `startResults`;
 * - the csv stream's queue: HIGH_WATER_MARK bytes before it stops pulling from the upstream.
 */
const OUT_SIZE = 64 * 1024
/** At the end of an input chunk the output is flushed only from this size on (no tiny chunks). */
const MIN_FLUSH = 16 * 1024
const HIGH_WATER_MARK = 256 * 1024
const MAX_CELL_BYTES = 64 * 1024 * 1024
const MAX_SIDE_BYTES = 64 * 1024 * 1024
const MAX_HELD_BYTES = 64 * 1024 * 1024
const MIB = 1024 * 1024

// Parser states. Outside `results` (collected for JSON.parse):
const S_START = 0
const S_BOM1 = 1
const S_BOM2 = 2
const S_OBJ_OPEN = 3
const S_KEY_NEXT = 4
const S_KEY = 5
const S_KEY_ESC = 6
const S_COLON = 7
const S_VALUE = 8
const S_SKIP = 9
const S_SKIP_STR = 10
const S_SKIP_ESC = 11
const S_AFTER_VALUE = 12
const S_END = 13
// Inside `results` (the hot part):
const R_OPEN = 20
const R_AFTER_ROW = 21
const R_EXPECT_ROW = 22
const W_FIRST = 23
const W_AFTER_CELL = 24
const W_EXPECT_CELL = 25
const C_STR = 26
const C_ESC = 27
const C_ESC_U = 28
const C_LIT = 29
const N_SIGN = 30
const N_ZERO = 31
const N_INT = 32
const N_DOT = 33
const N_FRAC = 34
const N_E = 35
const N_ESIGN = 36
const N_EXP = 37

// Byte classes inside a string cell; 0 = copy as is.
const K_COPY = 0
const K_END = 1
const K_ESC = 2
const K_CTRL = 3
const K_SEP = 4

// Cell flags: what the decoded content holds, to decide on quoting once the cell is complete.
const F_QUOTE = 1
const F_CRLF = 2
/** The separator's first byte was written; a multi-byte separator still needs a full match. */
const F_SEP = 4
/** A lone surrogate became U+FFFD while the separator holds a real U+FFFD (see `lone`). */
const F_LONE = 8

const QUOTE = 34
const BACKSLASH = 92
const COMMA = 44
const COLON = 58
const LF = 10
const CR = 13
const RESULTS_KEY = [114, 101, 115, 117, 108, 116, 115] // "results"
const LIT_NULL = new Uint8Array([110, 117, 108, 108])
const LIT_TRUE = new Uint8Array([116, 114, 117, 101])
const LIT_FALSE = new Uint8Array([102, 97, 108, 115, 101])
const NULL_BYTES = LIT_NULL
/** `null` read as a little-endian 32-bit word. */
const NULL_WORD = 0x6c6c756e

/** What a byte after `\` decodes to: a byte, -2 for `u` (4 hex digits follow), -1 if invalid. */
const ESCAPED = new Int16Array(256).fill(-1)
ESCAPED[QUOTE] = QUOTE
ESCAPED[BACKSLASH] = BACKSLASH
ESCAPED[47] = 47 // /
ESCAPED[98] = 8 // b
ESCAPED[102] = 12 // f
ESCAPED[110] = LF // n
ESCAPED[114] = CR // r
ESCAPED[116] = 9 // t
ESCAPED[117] = -2 // u

const isSpace = (b: number) => b === 32 || b === LF || b === CR || b === 9

/** The high surrogate left pending after an escape decoded to `unit`, or 0. */
const pendingAfter = (unit: number) => (unit >= 0xd800 && unit <= 0xdbff ? unit : 0)

function hexValue(b: number): number {
  if (b >= 48 && b <= 57) return b - 48
  const l = b | 32
  if (l >= 97 && l <= 102) return l - 87
  return -1
}

/** Where `bytes[from, to)` holds `needle` (a separator of 2+ bytes; short cells, so naive), or -1. */
function indexOfBytes(bytes: Uint8Array, from: number, to: number, needle: Uint8Array): number {
  const last = to - needle.length
  outer: for (let i = from; i <= last; i++) {
    for (let k = 0; k < needle.length; k++) if (bytes[i + k] !== needle[k]) continue outer
    return i
  }
  return -1
}

function describeByte(b: number): string {
  return b >= 33 && b <= 126 ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16)}`
}

interface ColumnMeta {
  name?: unknown
  label?: unknown
  columnTypeName?: unknown
}

function toColumnMetas(value: unknown): ColumnMeta[] {
  if (!Array.isArray(value)) return []
  return value.map((m): ColumnMeta => (typeof m === 'object' && m !== null ? m : {}))
}

/**
 * The resumable transcoder: `push` any chunk split (mid-escape, mid-UTF-8, mid-literal, mid-key),
 * then `finish`. Every state lives in fields, so a chunk boundary costs nothing but a return.
 */
class KylinCsvTranscoder {
  rows = 0
  bytes = 0
  /** Chunks handed to the consumer (not held); `pull` reads until this moves. */
  emitted = 0

  private readonly sep: Uint8Array
  private readonly sep0: number
  /** Whether the separator's bytes hold U+FFFD (EF BF BD). */
  private readonly sepHasReplacement: boolean
  private readonly cls: Uint8Array
  private readonly includeHeader: boolean
  private readonly separator: string
  private readonly enqueue: (chunk: Uint8Array) => void
  private readonly onProgress: ((rows: number, bytes: number) => void) | undefined

  private out = new Uint8Array(OUT_SIZE)
  private pos = 0
  /** Where the open cell's content starts in `out`, or -1: an open cell is never flushed. */
  private cellStart = -1
  private flags = 0
  /**
   * Offsets (from `cellStart`) of the U+FFFD written for lone surrogates in the open cell, kept
   * only when the separator holds U+FFFD: the reference matches the separator before
   * TextEncoder replaces lone surrogates, so a lone surrogate never matches it.
   */
  private lone: number[] = []

  private state = S_START
  /** Input bytes before the current chunk, for error offsets. */
  private consumed = 0
  private depth = 0
  private keyBytes: number[] = []
  private keyEscaped = false
  private keyIsResults = false
  private resultsSeen = false
  private side = new Uint8Array(1024)
  private sideLength = 0
  private hexCount = 0
  private hexValue = 0
  private pendingHigh = 0
  private literal: Uint8Array = LIT_NULL
  private literalIndex = 0

  /** A DataView of the current input chunk, for the fast path's 4-byte reads. */
  private inputView: DataView | null = null
  private inputFor: Uint8Array | null = null
  /** The fast path gave up on the current row; the state machine finishes it byte by byte. */
  private slowRow = false
  /** Output bytes per input byte the fast path may write at most (see `fastRows`). */
  private readonly fastRatio: number
  /**
   * Output bytes the fast path keeps free beyond that budget: a separator is written before its
   * cell's input is read (up to 2 separators ahead of the average), and 4-byte writes overshoot.
   */
  private readonly fastSpare: number

  private headerWritten = false
  private held: Uint8Array[] | null = null
  private heldBytes = 0

  constructor(options: TranscodeOptions, enqueue: (chunk: Uint8Array) => void) {
    if (options.separator.length === 0) throw new TypeError('The CSV separator must not be empty.')
    this.separator = options.separator
    this.sep = new TextEncoder().encode(options.separator)
    this.sep0 = this.sep[0]!
    this.sepHasReplacement = this.sep.some(
      (b, i) => b === 0xef && this.sep[i + 1] === 0xbf && this.sep[i + 2] === 0xbd,
    )
    this.includeHeader = options.includeHeader
    this.enqueue = enqueue
    this.onProgress = options.onProgress
    const cls = new Uint8Array(256)
    for (let b = 0; b < 32; b++) cls[b] = K_CTRL
    cls[QUOTE] = K_END
    cls[BACKSLASH] = K_ESC
    // A control byte, `"` or `\` never appears raw in string content, so as a separator's first
    // byte it can only come from an escape, and the escape path checks it there.
    if (this.sep0 >= 32 && this.sep0 !== QUOTE && this.sep0 !== BACKSLASH) cls[this.sep0] = K_SEP
    this.cls = cls
    this.fastRatio = Math.max(1, (this.sep.length + 2) / 3)
    this.fastSpare = 8 + 2 * this.sep.length
  }

  /** Consumes one input chunk. Throws an UpstreamError on anything that is not a valid result. */
  push(buf: Uint8Array): void {
    this.parse(buf, 0, buf.length)
    this.consumed += buf.length
    if (this.cellStart < 0 && this.pos >= MIN_FLUSH) this.flush()
  }

  /** The body has ended: validates the rest, writes what was held back, and summarises. */
  finish(): TranscodeSummary {
    if (this.state !== S_END) {
      throw new UpstreamError(
        `The upstream Kylin's answer ended before the JSON was complete (after ${this.consumed} bytes); no result was kept.`,
      )
    }
    const response = this.parseSide(this.sideText())
    // Decided only here, once every member is known; an envelope has no `results`, so not one
    // byte of it was written and failing now leaves nothing behind.
    if (isKylinEnvelope(response)) throw new UpstreamError(toEnvelopeFailure(response))
    if (this.resultsSeen ? response.results !== null : !isArrayOrAbsent(response.results)) {
      throw new UpstreamError(
        'The upstream Kylin sent a result whose "results" is not an array; no result was kept.',
      )
    }
    const metas = toColumnMetas(response.columnMetas)
    if (this.includeHeader && !this.headerWritten) {
      const header = this.encodeHeader(metas)
      if (this.held === null) {
        this.write(header) // no `results` array at all: the header is the whole file
      } else {
        // Rows held back (results before columnMetas) go out behind the header, in order.
        this.flush()
        const held = this.held
        this.held = null
        this.emit(header)
        for (const chunk of held) this.emit(chunk)
      }
    }
    this.flush()
    return {
      metadata: {
        names: metas.map((m) => String(m.name ?? m.label ?? '')),
        types: metas.map((m) => String(m.columnTypeName ?? '')),
      },
      rows: this.rows,
      bytes: this.bytes,
      partial: response.partial === true,
    }
  }

  // ---- output -------------------------------------------------------------------------------

  private emit(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    if (this.held !== null) {
      this.heldBytes += chunk.length
      if (this.heldBytes > MAX_HELD_BYTES) {
        throw new UpstreamError(
          `The upstream Kylin sent "results" before "columnMetas" and more than ${MAX_HELD_BYTES / MIB} MiB of rows, so the CSV header could not be written first; no result was kept.`,
        )
      }
      this.held.push(chunk)
      return
    }
    this.bytes += chunk.length
    this.emitted++
    this.enqueue(chunk)
    this.onProgress?.(this.rows, this.bytes)
  }

  /** Hands the whole output buffer on (no copy when it is well filled). Never with a cell open. */
  private flush(): void {
    const { out, pos } = this
    if (pos === 0) return
    if (pos >= out.length >> 1) {
      this.emit(out.subarray(0, pos))
      this.out = new Uint8Array(OUT_SIZE)
    } else {
      this.emit(out.slice(0, pos))
      if (out.length > OUT_SIZE) this.out = new Uint8Array(OUT_SIZE)
    }
    this.pos = 0
  }

  /**
   * Ensures `need` free bytes after `pos`. Everything before the open cell is flushed; the open
   * cell moves to the front of a fresh buffer, which grows when one cell alone does not fit.
   */
  private makeRoom(need: number): void {
    const start = this.cellStart
    if (start < 0) {
      this.flush()
      if (this.out.length < need) this.out = new Uint8Array(need)
      return
    }
    const cellLength = this.pos - start
    if (cellLength + need > MAX_CELL_BYTES) {
      throw new UpstreamError(
        `The upstream Kylin's answer has a cell larger than ${MAX_CELL_BYTES / MIB} MiB (row ${this.rows + 1}); no result was kept.`,
      )
    }
    let size = OUT_SIZE
    while (size < cellLength + need + 16) size *= 2
    const next = new Uint8Array(Math.min(size, MAX_CELL_BYTES + 16))
    next.set(this.out.subarray(start, this.pos))
    if (start > 0) this.emit(this.out.subarray(0, start))
    this.out = next
    this.pos = cellLength
    this.cellStart = 0
  }

  /** Writes one byte at `pos` (the state machine's), making room first; returns the next `pos`. */
  private put(pos: number, b: number): number {
    if (pos === this.out.length) {
      this.pos = pos
      this.makeRoom(1)
      pos = this.pos
    }
    this.out[pos] = b
    return pos + 1
  }

  private write(bytes: Uint8Array): void {
    if (this.out.length - this.pos < bytes.length) this.makeRoom(bytes.length)
    this.out.set(bytes, this.pos)
    this.pos += bytes.length
  }

  private encodeHeader(metas: ColumnMeta[]): Uint8Array {
    // As Kylin 5: labels joined by the separator, not escaped.
    const labels = metas.map((m) => String(m.label ?? m.name ?? ''))
    return new TextEncoder().encode(encodeCsvHeader(labels, this.separator))
  }

  // ---- the non-results members --------------------------------------------------------------

  private appendSide(buf: Uint8Array, from: number, to: number): void {
    const length = to - from
    if (length <= 0) return
    const needed = this.sideLength + length
    if (needed > MAX_SIDE_BYTES) {
      throw new UpstreamError(
        `The upstream Kylin's answer has more than ${MAX_SIDE_BYTES / MIB} MiB outside "results"; no result was kept.`,
      )
    }
    if (needed > this.side.length) {
      let size = this.side.length * 2
      while (size < needed) size *= 2
      const next = new Uint8Array(size)
      next.set(this.side.subarray(0, this.sideLength))
      this.side = next
    }
    this.side.set(buf.subarray(from, to), this.sideLength)
    this.sideLength = needed
  }

  private sideText(): string {
    // Non-fatal decoding and BOM stripping, as Response.text() does on the reference path.
    return new TextDecoder().decode(this.side.subarray(0, this.sideLength))
  }

  private parseSide(text: string): Record<string, unknown> {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw new UpstreamError(
        `The upstream Kylin's answer is not valid JSON outside "results" (${(error as Error).message}); no result was kept.`,
      )
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new UpstreamError(
        'The upstream Kylin sent a result that is not a JSON object; no result was kept.',
      )
    }
    const response = parsed as Record<string, unknown>
    if (response.isException === true) {
      const message = typeof response.exceptionMessage === 'string' ? response.exceptionMessage : ''
      throw new UpstreamError(toOneLine(message) || 'Unknown error.')
    }
    return response
  }

  /**
   * `"results": [` was found. The members before it are parsed now: an exception fails early,
   * and the header can be written before the rows when `columnMetas` came first (Kylin's order).
   * When a header is wanted but `columnMetas` has not come yet, the rows are held back in memory
   * (up to MAX_HELD_BYTES) until the object ends, because the header must come first and the
   * upstream cannot be re-read. Without a header, field order does not matter at all.
   */
  private startResults(): void {
    const head = this.parseSide(this.sideText() + '}')
    if (!this.includeHeader) return
    if (Object.hasOwn(head, 'columnMetas')) {
      this.write(this.encodeHeader(toColumnMetas(head.columnMetas)))
      this.headerWritten = true
    } else {
      this.held = []
    }
  }

  private isResultsKey(): boolean {
    const key = this.keyBytes
    if (!this.keyEscaped) {
      return key.length === RESULTS_KEY.length && key.every((b, i) => b === RESULTS_KEY[i])
    }
    try {
      const text = new TextDecoder().decode(new Uint8Array(key))
      return JSON.parse(`"${text}"`) === 'results'
    } catch {
      return false // invalid: the final JSON.parse of these bytes reports it
    }
  }

  // ---- errors -------------------------------------------------------------------------------

  private fail(reason: string, at: number): never {
    throw new UpstreamError(
      `The upstream Kylin's answer is not valid JSON at byte ${this.consumed + at}: ${reason}; no result was kept.`,
    )
  }

  private failShape(reason: string, at: number): never {
    throw new UpstreamError(
      `The upstream Kylin's answer is not a Kylin result at byte ${this.consumed + at}: ${reason}; no result was kept.`,
    )
  }

  // ---- cells --------------------------------------------------------------------------------

  /** Quotes the just-completed cell if its decoded content asks for it (rare, so out of line). */
  private finishFlaggedCell(flags: number): void {
    const start = this.cellStart
    let quote = (flags & (F_QUOTE | F_CRLF)) !== 0
    if (!quote && (flags & F_SEP) !== 0) quote = this.sep.length === 1 || this.hasSeparator()
    if (this.lone.length !== 0) this.lone = []
    if (!quote) return
    let quotes = 0
    if ((flags & F_QUOTE) !== 0) {
      const out = this.out
      for (let i = start; i < this.pos; i++) if (out[i] === QUOTE) quotes++
    }
    if (this.out.length - this.pos < quotes + 2) this.makeRoom(quotes + 2)
    const out = this.out
    const from = this.cellStart
    const end = this.pos
    // Expand in place from the back: the write index never overtakes the read index.
    let w = end + quotes + 1
    out[w--] = QUOTE
    for (let i = end - 1; i >= from; i--) {
      const b = out[i]!
      out[w--] = b
      if (b === QUOTE) out[w--] = QUOTE
    }
    out[from] = QUOTE
    this.pos = end + quotes + 2
  }

  /**
   * A full match of a multi-byte separator in the open cell. Byte matching equals the reference's
   * string matching because UTF-8 is self-synchronising; a match over the U+FFFD of a lone
   * surrogate does not count, as the reference compares before that replacement.
   */
  private hasSeparator(): boolean {
    const { out, sep, lone, cellStart, pos } = this
    outer: for (let i = indexOfBytes(out, cellStart, pos, sep); i >= 0; ) {
      for (const offset of lone) {
        const at = cellStart + offset
        if (at < i + sep.length && at + 3 > i) {
          i = indexOfBytes(out, i + 1, pos, sep)
          continue outer
        }
      }
      return true
    }
    return false
  }

  /** Ends a null, number or boolean cell (plain ASCII): quoted only if it holds the separator. */
  private endAsciiCell(): void {
    const { out, sep0 } = this
    for (let i = this.cellStart; i < this.pos; i++) {
      if (out[i] === sep0) {
        this.finishFlaggedCell(F_SEP)
        break
      }
    }
    this.cellStart = -1
  }

  // ---- the fast path ------------------------------------------------------------------------

  /**
   * The hot loop, entered between rows: whole rows of string and null cells that lie inside the
   * current chunk, with no per-cell state in fields and no per-byte capacity check. Anything else
   * (a number, a boolean, bad JSON, the end of `results`, a row cut by the chunk's end) rolls the
   * row back and leaves it to the state machine (`slowRow`), which can stop and resume anywhere;
   * the next row comes back here. On 1M Kylin-shaped rows in 64 KiB chunks, all but the ~0.1%
   * of rows cut by a chunk boundary take this path.
   * Capacity: from a row boundary the output grows by at most `fastRatio` bytes per input byte
   * (a non-first cell reads at least `,""` and writes at most the separator and 2 quotes besides
   * its content; no escape decodes to more bytes than it spans), so the input window is cut to
   * what the free output space can take, and nothing is flushed in the middle of a row.
   * Returns the input index reached; `this.state` is then a row-boundary state.
   */
  private fastRows(buf: Uint8Array, from: number, end: number): number {
    const cls = this.cls
    const sep = this.sep
    const sep0 = this.sep0
    const sepLength = sep.length
    const ratio = this.fastRatio
    let out = this.out
    let pos = this.pos
    let state = this.state
    let rows = this.rows
    const sepWord = Math.imul(sep0, 0x01010101)
    let j = from
    let flushed = false
    let escaped = false
    let input = this.inputView
    if (input === null || this.inputFor !== buf) {
      input = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
      this.inputView = input
      this.inputFor = buf
    }
    window: for (;;) {
      const room = out.length - pos - this.fastSpare
      const limit = (end - j) * ratio <= room ? end : j + Math.floor(room / ratio)
      const limit4 = limit - 4
      const output = new DataView(out.buffer, out.byteOffset, out.byteLength)
      /** Where the current row's output starts: the rollback point. */
      let start = pos
      // Each pass of `rows` ends a row and commits it; `break rows` means the window ended.
      rows: for (;;) {
        let k = j
        let b = 0
        // Between rows: ',' and whitespace are committed at once (they write nothing).
        for (;;) {
          if (k >= limit) {
            j = k
            if (limit === end) break window
            break rows
          }
          b = buf[k]!
          if (b === 91 && state !== R_AFTER_ROW) break
          if (b === COMMA && state === R_AFTER_ROW) {
            state = R_EXPECT_ROW
          } else if (!isSpace(b)) {
            // The end of results, or an error: the state machine tells which.
            j = k
            this.slowRow = true
            break window
          }
          k++
        }
        j = k
        start = pos
        k++
        if (k >= limit) break rows
        b = buf[k]!
        while (b <= 32 && isSpace(b)) {
          if (++k >= limit) break rows
          b = buf[k]!
        }
        if (b !== 93) {
          for (;;) {
            if (b === QUOTE) {
              k++
              let cellStart = pos
              let sepSeen = false
              for (;;) {
                if (k <= limit4) {
                  // Four bytes at a time (SWAR): flag bytes equal to `"`, `\`, the separator's
                  // first byte, or below 0x20. Only the lowest flag is exact (borrows run
                  // upwards), and only it is used. The word is written whole (the output keeps
                  // spare bytes) and `pos` advances to the first flagged byte.
                  const x = input.getInt32(k, true)
                  const q = x ^ 0x22222222
                  const e = x ^ 0x5c5c5c5c
                  const v = x ^ sepWord
                  const m =
                    (((q - 0x01010101) & ~q) |
                      ((e - 0x01010101) & ~e) |
                      ((v - 0x01010101) & ~v) |
                      ((x - 0x20202020) & ~x)) &
                    0x80808080
                  output.setInt32(pos, x, true)
                  if (m === 0) {
                    k += 4
                    pos += 4
                    continue
                  }
                  const skip = (31 - Math.clz32(m & -m)) >> 3
                  k += skip
                  pos += skip
                  // The most common step of all, `","` (end of a plain cell, start of the next),
                  // is taken here without leaving the loop.
                  if (
                    !sepSeen &&
                    k <= limit4 &&
                    (input.getInt32(k, true) & 0xffffff) === 0x222c22
                  ) {
                    k += 3
                    if (sepLength === 1) out[pos++] = sep0
                    else for (let i = 0; i < sepLength; i++) out[pos++] = sep[i]!
                    cellStart = pos
                    continue
                  }
                } else if (k >= limit) {
                  break rows
                }
                b = buf[k]!
                const c = cls[b]!
                if (c === K_COPY) {
                  out[pos++] = b
                  k++
                  continue
                }
                k++
                if (c === K_END) break
                if (c === K_SEP) {
                  sepSeen = true
                  out[pos++] = b
                  continue
                }
                if (c === K_ESC) {
                  // The rest of this cell decodes escapes (and quotes itself if need be).
                  this.pos = pos
                  this.cellStart = cellStart
                  const next = this.fastEscapedString(buf, k, limit, sepSeen ? F_SEP : 0)
                  this.cellStart = -1
                  if (this.out !== out) throw new Error('transcoder: the fast path lost its buffer')
                  if (next === -1) break rows
                  if (next >= 0) {
                    k = next
                    pos = this.pos
                    escaped = true
                    break
                  }
                }
                // A control character or a bad escape: the state machine reports it.
                pos = start
                this.slowRow = true
                break window
              }
              if (escaped) {
                escaped = false
              } else if (
                sepSeen &&
                (sepLength === 1 || indexOfBytes(out, cellStart, pos, sep) >= 0)
              ) {
                // No escapes, so no quotes inside: quoting is a shift by one.
                out.copyWithin(cellStart + 1, cellStart, pos)
                out[cellStart] = QUOTE
                pos++
                out[pos++] = QUOTE
              }
            } else if (b === 110 && k <= limit4) {
              if (input.getInt32(k, true) !== NULL_WORD) {
                pos = start
                this.slowRow = true
                break window
              }
              k += 4
            } else if (b === 110) {
              break rows
            } else {
              pos = start
              this.slowRow = true
              break window
            }
            if (k >= limit) break rows
            b = buf[k]!
            while (b <= 32 && isSpace(b)) {
              if (++k >= limit) break rows
              b = buf[k]!
            }
            if (b === COMMA) {
              k++
              if (sepLength === 1) out[pos++] = sep0
              else for (let i = 0; i < sepLength; i++) out[pos++] = sep[i]!
              if (k >= limit) break rows
              b = buf[k]!
              while (b <= 32 && isSpace(b)) {
                if (++k >= limit) break rows
                b = buf[k]!
              }
              continue
            }
            if (b === 93) break
            pos = start
            this.slowRow = true
            break window
          }
        }
        out[pos++] = LF
        rows++
        j = k + 1
        start = pos
        state = R_AFTER_ROW
        flushed = false
      }
      // The row at j ran into the window's end: roll it back, then make room or go slowly.
      pos = start
      if (this.lone.length !== 0) this.lone = []
      if (limit === end || flushed) {
        this.slowRow = true
        break window
      }
      this.pos = pos
      this.rows = rows
      this.flush()
      out = this.out
      pos = this.pos
      flushed = true
    }
    this.out = out
    this.pos = pos
    this.rows = rows
    this.state = state
    return j
  }

  /**
   * The fast path's decoder for the rest of a string cell after its first `\`, within the window
   * (so no state survives it): the same decoding as the state machine, then the quoting. The
   * output cannot outgrow the window's budget: no escape decodes to more bytes than it spans.
   * Returns the index after the closing quote, -1 when the window ends first, -2 on a control
   * character or a bad escape (the caller rolls the row back; the state machine reports it).
   */
  private fastEscapedString(buf: Uint8Array, from: number, limit: number, flags: number): number {
    const out = this.out
    const cls = this.cls
    const sep0 = this.sep0
    let pos = this.pos
    let k = from
    let high = 0
    for (;;) {
      // k is just after a backslash.
      if (k >= limit) return -1
      let unit = ESCAPED[buf[k++]!]!
      if (unit === -2) {
        if (k + 4 > limit) return -1
        const a = hexValue(buf[k]!)
        const b = hexValue(buf[k + 1]!)
        const c = hexValue(buf[k + 2]!)
        const d = hexValue(buf[k + 3]!)
        if ((a | b | c | d) < 0) return -2
        unit = (a << 12) | (b << 8) | (c << 4) | d
        k += 4
      } else if (unit < 0) {
        return -2
      }
      const written = pos
      if (high !== 0) {
        if (unit >= 0xdc00 && unit <= 0xdfff) {
          const cp = 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00)
          out[pos++] = 0xf0 | (cp >> 18)
          out[pos++] = 0x80 | ((cp >> 12) & 0x3f)
          out[pos++] = 0x80 | ((cp >> 6) & 0x3f)
          out[pos++] = 0x80 | (cp & 0x3f)
          unit = -1
        } else {
          pos = this.writeLone(pos)
          if (this.sepHasReplacement) flags |= F_LONE
        }
        high = 0
      }
      if (unit >= 0xd800 && unit <= 0xdbff) {
        high = unit
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        pos = this.writeLone(pos)
        if (this.sepHasReplacement) flags |= F_LONE
      } else if (unit >= 0x800) {
        out[pos++] = 0xe0 | (unit >> 12)
        out[pos++] = 0x80 | ((unit >> 6) & 0x3f)
        out[pos++] = 0x80 | (unit & 0x3f)
      } else if (unit >= 0x80) {
        out[pos++] = 0xc0 | (unit >> 6)
        out[pos++] = 0x80 | (unit & 0x3f)
      } else if (unit >= 0) {
        out[pos++] = unit
        if (unit === QUOTE) flags |= F_QUOTE
        else if (unit === LF || unit === CR) flags |= F_CRLF
      }
      for (let i = written; i < pos; i++) if (out[i] === sep0) flags |= F_SEP
      // Plain bytes up to the next escape or the closing quote.
      for (;;) {
        if (k >= limit) return -1
        const b = buf[k]!
        const c = cls[b]!
        if (c === K_ESC) {
          k++
          break
        }
        if (high !== 0) {
          pos = this.writeLone(pos)
          if (this.sepHasReplacement) flags |= F_LONE
          if (sep0 === 0xef) flags |= F_SEP
          high = 0
        }
        k++
        if (c === K_COPY) {
          out[pos++] = b
        } else if (c === K_SEP) {
          out[pos++] = b
          flags |= F_SEP
        } else if (c === K_END) {
          this.pos = pos
          if (flags !== 0) this.finishFlaggedCell(flags)
          return k
        } else {
          return -2
        }
      }
    }
  }

  /**
   * Writes one UTF-16 unit decoded from an escape, as UTF-8, into `out` at `pos`, where `high` is
   * a high surrogate still pending (or 0): joined with a low surrogate unit, else written as a
   * lone one. `unit` -1 writes only that; a high surrogate unit writes nothing (the caller keeps
   * it pending, see `pendingAfter`). Shared by the fast path and the state machine, which make room
   * for up to 7 bytes first. Returns `flags` with what was written; `this.pos` is the new end.
   */
  private writeUnit(pos: number, high: number, unit: number, flags: number): number {
    const out = this.out
    const written = pos
    if (high !== 0) {
      if (unit >= 0xdc00 && unit <= 0xdfff) {
        const cp = 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00)
        out[pos++] = 0xf0 | (cp >> 18)
        out[pos++] = 0x80 | ((cp >> 12) & 0x3f)
        out[pos++] = 0x80 | ((cp >> 6) & 0x3f)
        out[pos++] = 0x80 | (cp & 0x3f)
        unit = -1
      } else {
        pos = this.writeLone(pos)
        if (this.sepHasReplacement) flags |= F_LONE
      }
    }
    if (unit >= 0xd800 && unit <= 0xdbff) {
      // pending: the next escape may be its low half
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      pos = this.writeLone(pos)
      if (this.sepHasReplacement) flags |= F_LONE
    } else if (unit >= 0x800) {
      out[pos++] = 0xe0 | (unit >> 12)
      out[pos++] = 0x80 | ((unit >> 6) & 0x3f)
      out[pos++] = 0x80 | (unit & 0x3f)
    } else if (unit >= 0x80) {
      out[pos++] = 0xc0 | (unit >> 6)
      out[pos++] = 0x80 | (unit & 0x3f)
    } else if (unit >= 0) {
      out[pos++] = unit
      if (unit === QUOTE) flags |= F_QUOTE
      else if (unit === LF || unit === CR) flags |= F_CRLF
    }
    const sep0 = this.sep0
    for (let i = written; i < pos; i++) if (out[i] === sep0) flags |= F_SEP
    this.pos = pos
    return flags
  }

  /** U+FFFD for a lone surrogate (as TextEncoder writes it), noted when the separator has one. */
  private writeLone(pos: number): number {
    if (this.sepHasReplacement) this.lone.push(pos - this.cellStart)
    const out = this.out
    out[pos] = 0xef
    out[pos + 1] = 0xbf
    out[pos + 2] = 0xbd
    return pos + 3
  }

  // ---- the state machine --------------------------------------------------------------------

  /**
   * The resumable state machine over the whole body, one byte (or one run) per step: the object
   * around `results`, and the rows `fastRows` leaves to it. Its locals are saved to fields when
   * the chunk ends, so the next chunk carries on from any byte.
   */
  private parse(buf: Uint8Array, from: number, end: number): void {
    const cls = this.cls
    const sep = this.sep
    const sep0 = this.sep0
    const sepLength = sep.length
    let out = this.out
    let pos = this.pos
    let state = this.state
    let flags = this.flags
    let j = from
    // Start of the not-yet-collected bytes of a non-results member, or -1 inside results.
    let segment = state < R_OPEN && state !== S_END ? j : -1

    main: while (j < end) {
      switch (state) {
        // ---- string cells (of rows the fast path left) ----
        case C_STR: {
          if (this.pendingHigh !== 0) {
            if (buf[j] === BACKSLASH) {
              j++
              state = C_ESC
              continue main
            }
            // A high surrogate not followed by a low one: JSON.parse keeps it lone, and
            // TextEncoder turns a lone surrogate into U+FFFD.
            if (out.length - pos < 3) {
              this.pos = pos
              this.makeRoom(3)
              out = this.out
              pos = this.pos
            }
            flags = this.writeUnit(pos, this.pendingHigh, -1, flags)
            pos = this.pos
            this.pendingHigh = 0
          }
          for (;;) {
            const room = out.length - pos
            const limit = end - j <= room ? end : j + room
            let b = 0
            let c = K_COPY
            while (j < limit) {
              b = buf[j]!
              c = cls[b]!
              if (c !== K_COPY) break
              out[pos++] = b
              j++
            }
            if (j === limit) {
              if (j === end) break main
              this.pos = pos
              this.makeRoom(1)
              out = this.out
              pos = this.pos
              continue
            }
            j++
            if (c === K_END) {
              if (flags !== 0) {
                this.pos = pos
                this.finishFlaggedCell(flags)
                out = this.out
                pos = this.pos
                flags = 0
              }
              this.cellStart = -1
              state = W_AFTER_CELL
              continue main
            }
            if (c === K_SEP) {
              flags |= F_SEP
              out[pos++] = b
              continue
            }
            if (c === K_ESC) {
              state = C_ESC
              continue main
            }
            this.fail('a control character inside a string', j - 1)
          }
        }
        case C_ESC: {
          const b = buf[j]!
          const d = ESCAPED[b]!
          if (d === -2) {
            j++
            this.hexCount = 0
            this.hexValue = 0
            state = C_ESC_U
            continue main
          }
          if (d < 0) this.fail(`an invalid escape \\${String.fromCharCode(b)}`, j)
          j++
          if (out.length - pos < 4) {
            this.pos = pos
            this.makeRoom(4)
            out = this.out
            pos = this.pos
          }
          flags = this.writeUnit(pos, this.pendingHigh, d, flags)
          pos = this.pos
          this.pendingHigh = 0
          state = C_STR
          continue main
        }
        case C_ESC_U: {
          const h = hexValue(buf[j]!)
          if (h < 0) this.fail('an invalid \\u escape', j)
          j++
          this.hexValue = this.hexValue * 16 + h
          if (++this.hexCount < 4) continue main
          const unit = this.hexValue
          if (out.length - pos < 8) {
            this.pos = pos
            this.makeRoom(8)
            out = this.out
            pos = this.pos
          }
          flags = this.writeUnit(pos, this.pendingHigh, unit, flags)
          pos = this.pos
          this.pendingHigh = pendingAfter(unit)
          state = C_STR
          continue main
        }

        // ---- rows ----
        case W_AFTER_CELL: {
          const b = buf[j]!
          if (b === COMMA) {
            j++
            state = W_EXPECT_CELL
            continue main
          }
          if (b === 93) {
            j++
            pos = this.put(pos, LF)
            out = this.out
            this.rows++
            this.slowRow = false
            state = R_AFTER_ROW
            continue main
          }
          if (isSpace(b)) {
            j++
            continue main
          }
          this.fail(`expected ',' or ']' after a cell, found ${describeByte(b)}`, j)
        }
        case W_EXPECT_CELL:
        case W_FIRST: {
          const b = buf[j]!
          if (isSpace(b)) {
            j++
            continue main
          }
          if (state === W_FIRST) {
            if (b === 93) {
              // An empty row: an empty line, as the reference encoder writes it.
              state = W_AFTER_CELL
              continue main
            }
          } else {
            if (out.length - pos < sepLength) {
              this.pos = pos
              this.makeRoom(sepLength)
              out = this.out
              pos = this.pos
            }
            if (sepLength === 1) out[pos++] = sep0
            else for (let k = 0; k < sepLength; k++) out[pos++] = sep[k]!
          }
          j++
          this.cellStart = pos
          flags = 0
          if (b === QUOTE) {
            state = C_STR
            continue main
          }
          if (b === 110) {
            // null: an empty cell, nothing to write.
            this.literal = LIT_NULL
            this.literalIndex = 1
            state = C_LIT
            continue main
          }
          if (b === 116 || b === 102) {
            this.literal = b === 116 ? LIT_TRUE : LIT_FALSE
            this.literalIndex = 1
            state = C_LIT
          } else if (b === 45 || (b >= 48 && b <= 57)) {
            state = b === 45 ? N_SIGN : b === 48 ? N_ZERO : N_INT
          } else if (b === 91 || b === 123) {
            this.failShape(
              `a cell of "results" (row ${this.rows + 1}) is an ${b === 91 ? 'array' : 'object'}, not a string, number, boolean or null`,
              j - 1,
            )
          } else {
            this.fail(`expected a value, found ${describeByte(b)}`, j - 1)
          }
          pos = this.put(pos, b)
          out = this.out
          continue main
        }
        case C_LIT: {
          const b = buf[j]!
          const literal = this.literal
          if (b !== literal[this.literalIndex]) {
            this.fail(`an invalid literal, found ${describeByte(b)}`, j)
          }
          j++
          if (literal !== LIT_NULL) {
            pos = this.put(pos, b)
            out = this.out
          }
          if (++this.literalIndex < literal.length) continue main
          this.pos = pos
          this.endAsciiCell()
          out = this.out
          pos = this.pos
          state = W_AFTER_CELL
          continue main
        }
        case N_SIGN:
        case N_ZERO:
        case N_INT:
        case N_DOT:
        case N_FRAC:
        case N_E:
        case N_ESIGN:
        case N_EXP: {
          // A number cell keeps its JSON text (no float round trip, so no lost digits).
          const b = buf[j]!
          const digit = b >= 48 && b <= 57
          let next = -1
          switch (state) {
            case N_SIGN:
              if (digit) next = b === 48 ? N_ZERO : N_INT
              break
            case N_ZERO:
              if (b === 46) next = N_DOT
              else if (b === 101 || b === 69) next = N_E
              break
            case N_INT:
              if (digit) next = N_INT
              else if (b === 46) next = N_DOT
              else if (b === 101 || b === 69) next = N_E
              break
            case N_DOT:
              if (digit) next = N_FRAC
              break
            case N_FRAC:
              if (digit) next = N_FRAC
              else if (b === 101 || b === 69) next = N_E
              break
            case N_E:
              if (digit) next = N_EXP
              else if (b === 43 || b === 45) next = N_ESIGN
              break
            case N_ESIGN:
            case N_EXP:
              if (digit) next = N_EXP
              break
          }
          if (next >= 0) {
            j++
            pos = this.put(pos, b)
            out = this.out
            state = next
            continue main
          }
          if (state === N_SIGN || state === N_DOT || state === N_E || state === N_ESIGN) {
            this.fail(`an incomplete number, found ${describeByte(b)}`, j)
          }
          // The number ended at b, which the row state reads next.
          this.pos = pos
          this.endAsciiCell()
          out = this.out
          pos = this.pos
          state = W_AFTER_CELL
          continue main
        }

        // ---- the results array ----
        case R_OPEN:
        case R_AFTER_ROW:
        case R_EXPECT_ROW: {
          if (!this.slowRow) {
            this.pos = pos
            this.state = state
            j = this.fastRows(buf, j, end)
            out = this.out
            pos = this.pos
            state = this.state
            continue main
          }
          const b = buf[j]!
          if (isSpace(b)) {
            j++
            continue main
          }
          if (state !== R_EXPECT_ROW && b === 93) {
            // The end of `results`: back to collecting the members after it.
            j++
            state = S_AFTER_VALUE
            segment = j
            continue main
          }
          if (state === R_AFTER_ROW) {
            if (b !== COMMA)
              this.fail(`expected ',' or ']' after a row, found ${describeByte(b)}`, j)
            j++
            state = R_EXPECT_ROW
            continue main
          }
          if (b !== 91) {
            if (b === QUOTE || b === 123 || b === 110 || b === 116 || b === 102 || b === 45) {
              this.failShape(`row ${this.rows + 1} of "results" is not an array`, j)
            }
            if (b >= 48 && b <= 57)
              this.failShape(`row ${this.rows + 1} of "results" is not an array`, j)
            this.fail(`expected a row, found ${describeByte(b)}`, j)
          }
          j++
          state = W_FIRST
          continue main
        }

        // ---- outside results: structure only; JSON.parse validates the collected bytes ----
        case S_START: {
          const b = buf[j]!
          if (b === 0xef && this.consumed + j === 0) {
            j++
            state = S_BOM1
            continue main
          }
          j++
          if (isSpace(b)) continue main
          if (b !== 123) this.fail(`expected '{', found ${describeByte(b)}`, j - 1)
          state = S_OBJ_OPEN
          continue main
        }
        case S_BOM1:
        case S_BOM2: {
          const b = buf[j]!
          if (b !== (state === S_BOM1 ? 0xbb : 0xbf)) this.fail('a broken byte order mark', j)
          j++
          state = state === S_BOM1 ? S_BOM2 : S_START
          continue main
        }
        case S_OBJ_OPEN:
        case S_KEY_NEXT: {
          const b = buf[j]!
          j++
          if (isSpace(b)) continue main
          if (b === QUOTE) {
            this.keyBytes = []
            this.keyEscaped = false
            state = S_KEY
            continue main
          }
          if (b === 125 && state === S_OBJ_OPEN) {
            this.appendSide(buf, segment, j)
            segment = -1
            state = S_END
            continue main
          }
          this.fail(`expected a member name, found ${describeByte(b)}`, j - 1)
        }
        case S_KEY: {
          const b = buf[j]!
          j++
          if (b === QUOTE) {
            this.keyIsResults = this.isResultsKey()
            state = S_COLON
          } else {
            // "results" spelt with escapes is at most 42 bytes; longer keys are never it.
            if (this.keyBytes.length < 64) this.keyBytes.push(b)
            else this.keyEscaped = true
            if (b === BACKSLASH) {
              this.keyEscaped = true
              state = S_KEY_ESC
            }
          }
          continue main
        }
        case S_KEY_ESC: {
          if (this.keyBytes.length < 64) this.keyBytes.push(buf[j]!)
          j++
          state = S_KEY
          continue main
        }
        case S_COLON: {
          const b = buf[j]!
          j++
          if (isSpace(b)) continue main
          if (b !== COLON) this.fail(`expected ':', found ${describeByte(b)}`, j - 1)
          state = S_VALUE
          continue main
        }
        case S_VALUE: {
          const b = buf[j]!
          if (isSpace(b)) {
            j++
            continue main
          }
          if (this.keyIsResults && this.resultsSeen) this.failShape('"results" appears twice', j)
          if (this.keyIsResults && b === 91) {
            this.resultsSeen = true
            // The collected text keeps `"results":null`; the rows never enter it.
            this.appendSide(buf, segment, j)
            this.appendSide(NULL_BYTES, 0, NULL_BYTES.length)
            segment = -1
            j++
            this.pos = pos
            this.slowRow = false
            this.startResults()
            out = this.out
            pos = this.pos
            state = R_OPEN
            continue main
          }
          this.depth = 0
          state = S_SKIP
          continue main
        }
        case S_SKIP: {
          // Any other member value: tracks strings and nesting only, to find where it ends.
          const b = buf[j]!
          j++
          if (b === QUOTE) {
            state = S_SKIP_STR
          } else if (b === 123 || b === 91) {
            this.depth++
          } else if (b === 125 || b === 93) {
            if (this.depth > 0) {
              this.depth--
            } else if (b === 125) {
              this.appendSide(buf, segment, j)
              segment = -1
              state = S_END
            } else {
              this.fail(`an unexpected ']'`, j - 1)
            }
          } else if (b === COMMA && this.depth === 0) {
            state = S_KEY_NEXT
          }
          continue main
        }
        case S_SKIP_STR: {
          const next = buf.indexOf(QUOTE, j)
          const stop = next < 0 ? end : next
          while (j < stop && buf[j] !== BACKSLASH) j++
          if (j === end) continue main
          j++
          state = buf[j - 1] === BACKSLASH ? S_SKIP_ESC : S_SKIP
          continue main
        }
        case S_SKIP_ESC: {
          j++
          state = S_SKIP_STR
          continue main
        }
        case S_AFTER_VALUE: {
          const b = buf[j]!
          j++
          if (isSpace(b)) continue main
          if (b === COMMA) {
            state = S_KEY_NEXT
          } else if (b === 125) {
            this.appendSide(buf, segment, j)
            segment = -1
            state = S_END
          } else {
            this.fail(`expected ',' or '}' after "results", found ${describeByte(b)}`, j - 1)
          }
          continue main
        }
        case S_END: {
          const b = buf[j]!
          if (!isSpace(b)) this.fail(`unexpected data after the JSON object`, j)
          j++
          continue main
        }
        default:
          throw new Error(`transcoder: unknown state ${state}`)
      }
    }
    if (segment >= 0) this.appendSide(buf, segment, end)
    this.out = out
    this.pos = pos
    this.state = state
    this.flags = flags
  }
}

function isArrayOrAbsent(value: unknown): boolean {
  return value === undefined || value === null || Array.isArray(value)
}

/** A failure of the upstream body itself (a reset, a timeout) is an upstream failure too. */
function toReadFailure(error: unknown, consumed: number): unknown {
  if (error instanceof GatewayError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new UpstreamError(
    `The upstream Kylin's answer broke off after ${consumed} bytes (${message}); no result was kept.`,
    { cause: error },
  )
}

/**
 * Streams `body` (a `SQLResponse`) into CSV. The csv stream pulls from the upstream only as the
 * consumer reads (up to HIGH_WATER_MARK bytes queued), and cancelling it cancels the upstream.
 */
export function transcodeKylinResult(
  body: ReadableStream<Uint8Array>,
  options: TranscodeOptions,
): Transcoding {
  let settle!: { resolve: (s: TranscodeSummary) => void; reject: (e: unknown) => void }
  const summary = new Promise<TranscodeSummary>((resolve, reject) => {
    settle = { resolve, reject }
  })
  summary.catch(() => {})
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  let transcoder: KylinCsvTranscoder | undefined
  let consumed = 0
  let settled = false
  let cancelled = false

  const csv = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        try {
          transcoder = new KylinCsvTranscoder(options, (chunk) => controller.enqueue(chunk))
          reader = body.getReader()
        } catch (error) {
          // An empty separator or a locked body: the stream and the summary fail alike.
          // (Throwing here would throw from the constructor instead.)
          settled = true
          settle.reject(error)
          controller.error(error)
        }
      },
      async pull(controller) {
        const t = transcoder!
        const r = reader!
        try {
          // One pull ends once at least one chunk went out (or the end): the queue's high-water
          // mark, not this loop, decides how far ahead of the consumer the transcoder runs.
          const before = t.emitted
          while (t.emitted === before) {
            let next: ReadableStreamReadResult<Uint8Array>
            try {
              next = await r.read()
            } catch (error) {
              throw toReadFailure(error, consumed)
            }
            if (cancelled) return
            const { done, value } = next
            if (done) {
              const result = t.finish()
              controller.close()
              settled = true
              settle.resolve(result)
              return
            }
            consumed += value.length
            t.push(value)
          }
        } catch (failure) {
          controller.error(failure)
          settled = true
          settle.reject(failure)
          r.cancel(failure).catch(() => {})
        }
      },
      async cancel(reason) {
        cancelled = true
        if (!settled) {
          settled = true
          settle.reject(
            reason instanceof Error ? reason : new Error('The CSV stream was cancelled.'),
          )
        }
        await reader?.cancel(reason)
      },
    },
    { highWaterMark: HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
  )
  return { csv, summary }
}
