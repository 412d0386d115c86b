/**
 * The fused kernel's output side: one growable byte buffer that holds at most one open cell,
 * UTF-8 writes of decoded escapes, quoting decided after a cell is written, and the hand-off of
 * full chunks (held back while a late header is awaited). Portable.
 */
import { UpstreamError } from '../../errors.ts'
import { BACKSLASH, CR, LF, MAX_HELD_BYTES, MIB, QUOTE } from '../kylin-json/bytes.ts'
import { KylinResponseFrame } from '../kylin-json/frame.ts'
import type { CsvOptions } from '../writers/csv.ts'
import {
  F_CRLF,
  F_LONE,
  F_QUOTE,
  F_SEP,
  K_CTRL,
  K_END,
  K_ESC,
  K_SEP,
  MAX_CELL_BYTES,
  OUT_SIZE,
  R_OPEN,
  indexOfBytes,
} from './constants.ts'
import { ChunkPool } from './chunk-pool.ts'
import type { KylinCsvKernel } from './kernel-choice.ts'

export interface TranscodeOptions extends CsvOptions {
  /** Called as bytes are handed on, with running totals. */
  onProgress?: (rows: number, bytes: number) => void
  /** The fast path: JS or WebAssembly (wasm-rows.ts); default as kernel-choice.ts prefers. */
  kernel?: KylinCsvKernel
  /**
   * Output chunks are lent from buffers the process's exports share (chunk-pool.ts) and come
   * back through `giveBack` (a consumer that says when it has written them). Off by default:
   * every chunk is then the consumer's to keep.
   */
  recycle?: boolean
  /**
   * The consumer copies each chunk while `enqueue` runs (ExportOptions.copiesAtOnce): chunks are
   * then views of the output buffer, which stays and is written again.
   */
  copiesAtOnce?: boolean
}

/** The base of the kernel's class chain (output → fast rows → row machine → transcoder). */
export class CsvOutput {
  rows = 0
  bytes = 0
  /** Chunks handed to the consumer (not held); `pull` reads until this moves. */
  emitted = 0

  protected readonly sep: Uint8Array
  protected readonly sep0: number
  /** Whether the separator's bytes hold U+FFFD (EF BF BD). */
  protected readonly sepHasReplacement: boolean
  protected readonly cls: Uint8Array
  protected readonly includeHeader: boolean
  protected readonly separator: string
  private readonly enqueue: (chunk: Uint8Array) => void
  private readonly onProgress: ((rows: number, bytes: number) => void) | undefined
  /** Where output chunks come from when they are given back (`recycle`); null otherwise. */
  private readonly pool: ChunkPool | null
  /** Whether the consumer copies each chunk at once, so the output buffer may leave as a view. */
  private readonly copiesAtOnce: boolean
  /** The object around `results`: its scanner, collected members and error wording. */
  protected readonly frame: KylinResponseFrame = new KylinResponseFrame()

  protected out = new Uint8Array(OUT_SIZE)
  protected pos = 0
  /** Where the open cell's content starts in `out`, or -1: an open cell is never flushed. */
  protected cellStart = -1
  protected flags = 0
  /**
   * Offsets (from `cellStart`) of the U+FFFD written for lone surrogates in the open cell, kept
   * only when the separator holds U+FFFD: the reference matches the separator before
   * TextEncoder replaces lone surrogates, so a lone surrogate never matches it.
   */
  protected lone: number[] = []
  /** The row state (constants.ts), read and written by the fast path and the row machine. */
  protected state = R_OPEN

  /** Output chunks held back while a header is awaited (see the transcoder's startResults). */
  protected held: Uint8Array[] | null = null
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
    this.pool = options.recycle ? new ChunkPool() : null
    this.copiesAtOnce = options.copiesAtOnce === true
    const cls = new Uint8Array(256)
    for (let b = 0; b < 32; b++) cls[b] = K_CTRL
    cls[QUOTE] = K_END
    cls[BACKSLASH] = K_ESC
    // A control byte, `"` or `\` never appears raw in string content, so as a separator's first
    // byte it can only come from an escape, and the escape path checks it there.
    if (this.sep0 >= 32 && this.sep0 !== QUOTE && this.sep0 !== BACKSLASH) cls[this.sep0] = K_SEP
    this.cls = cls
  }

  /**
   * Hands `chunk` on (or holds it while a late header is awaited). `transient`: its memory is
   * written again after this call, so what leaves is a copy.
   */
  protected emit(chunk: Uint8Array, transient = false): void {
    if (chunk.length === 0) return
    if (this.held !== null) {
      this.heldBytes += chunk.length
      if (this.heldBytes > MAX_HELD_BYTES) {
        throw new UpstreamError(
          `The upstream Kylin sent "results" before "columnMetas" and more than ${MAX_HELD_BYTES / MIB} MiB of rows, so the CSV header could not be written first; no result was kept.`,
        )
      }
      this.held.push(transient ? chunk.slice() : chunk)
      return
    }
    this.bytes += chunk.length
    this.emitted++
    const pool = this.pool
    if (this.copiesAtOnce) this.enqueue(chunk)
    else if (pool !== null && chunk.length <= OUT_SIZE) this.enqueue(pool.lend(chunk))
    else this.enqueue(transient ? chunk.slice() : chunk)
    this.onProgress?.(this.rows, this.bytes)
  }

  /** Takes back a chunk this transcoder handed on, once its consumer has written it. */
  giveBack(chunk: Uint8Array): void {
    this.pool?.giveBack(chunk)
  }

  /**
   * Hands the output buffer on: whole when it is well filled (no copy), else a copy; with a
   * pool, a lent copy, and the buffer stays; to a consumer that copies at once, a view of it,
   * and the buffer stays.
   */
  protected flush(): void {
    const { out, pos } = this
    if (pos === 0) return
    if ((this.pool !== null || this.copiesAtOnce) && out.length === OUT_SIZE) {
      this.emit(out.subarray(0, pos), true)
    } else if (pos >= out.length >> 1) {
      this.emit(out.subarray(0, pos))
      this.out = new Uint8Array(OUT_SIZE)
    } else {
      this.emit(out.slice(0, pos))
      if (out.length > OUT_SIZE) this.out = new Uint8Array(OUT_SIZE)
    }
    this.pos = 0
  }

  /** Hands on a copy of the output before the open cell, which moves to the buffer's front. */
  protected emitBeforeOpenCell(): void {
    const start = this.cellStart
    if (start <= 0) return
    this.emit(this.out.subarray(0, start), true)
    this.out.copyWithin(0, start, this.pos)
    this.pos -= start
    this.cellStart = 0
  }

  /**
   * Ensures `need` free bytes after `pos`. Everything before the open cell is flushed; the open
   * cell moves to the front of a fresh buffer, which grows when one cell alone does not fit.
   */
  protected makeRoom(need: number): void {
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

  /** Writes one byte at `pos` (the row machine's), making room first; returns the next `pos`. */
  protected put(pos: number, b: number): number {
    if (pos === this.out.length) {
      this.pos = pos
      this.makeRoom(1)
      pos = this.pos
    }
    this.out[pos] = b
    return pos + 1
  }

  protected write(bytes: Uint8Array): void {
    if (this.out.length - this.pos < bytes.length) this.makeRoom(bytes.length)
    this.out.set(bytes, this.pos)
    this.pos += bytes.length
  }

  /** Quotes the just-completed cell if its decoded content asks for it (rare, so out of line). */
  protected finishFlaggedCell(flags: number): void {
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
    // Matches and lone U+FFFDs both come in order: one pass over each, however many there are.
    let next = 0
    for (let i = indexOfBytes(out, cellStart, pos, sep); i >= 0; ) {
      while (next < lone.length && cellStart + lone[next]! + 3 <= i) next++
      if (next === lone.length || cellStart + lone[next]! >= i + sep.length) return true
      i = indexOfBytes(out, i + 1, pos, sep)
    }
    return false
  }

  /** Ends a null, number or boolean cell (plain ASCII): quoted only if it holds the separator. */
  protected endAsciiCell(): void {
    const { out, sep0 } = this
    for (let i = this.cellStart; i < this.pos; i++) {
      if (out[i] === sep0) {
        this.finishFlaggedCell(F_SEP)
        break
      }
    }
    this.cellStart = -1
  }

  /**
   * Writes one UTF-16 unit decoded from an escape, as UTF-8, into `out` at `pos`, where `high` is
   * a high surrogate still pending (or 0): joined with a low surrogate unit, else written as a
   * lone one. `unit` -1 writes only that; a high surrogate unit writes nothing (the caller keeps
   * it pending, see `pendingAfter`). The row machine's (it makes room for up to 7 bytes first);
   * the fast path keeps an inline copy, which measurably pays there.
   * Returns `flags` with what was written; `this.pos` is the new end.
   */
  protected writeUnit(pos: number, high: number, unit: number, flags: number): number {
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
  protected writeLone(pos: number): number {
    if (this.sepHasReplacement) this.lone.push(pos - this.cellStart)
    const out = this.out
    out[pos] = 0xef
    out[pos + 1] = 0xbf
    out[pos + 2] = 0xbd
    return pos + 3
  }
}
