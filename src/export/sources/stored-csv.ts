/**
 * The stored-CSV source: a finished result, as Kylin 5's async CSV wrote it, read back into
 * columns and rows so it can be converted at download time. Portable.
 *
 * Hand-written: Kylin allows any separator string, multi-character ones included, which
 * csv-parse and papaparse reject or read differently; and null must come back from an unquoted
 * empty cell. The rules read here are the writer's (writers/csv.ts): a cell holding the
 * separator, CR, LF or `"` is quoted with inner quotes doubled; null is written as nothing; `\n`
 * ends every row; the optional header row is the labels joined by the separator, not escaped.
 * Where the format is ambiguous, a reading is chosen that the CSV writer turns back into the
 * same bytes: an empty line is one null cell. The header row is as many labels as the record has
 * columns (one line when they are not known); a label holding `\n` or the separator itself cannot
 * be told apart there. A separator holding `"` cannot be read back at all (`"a""b"` is then either
 * one cell or two), nor one holding CR or LF (rows and cells cannot be told apart): both are
 * refused.
 */
import { GatewayError } from '../../errors.ts'
import type { ColumnMetadata } from '../../domain/query.ts'
import { toColumnsOfMetadata } from '../columns.ts'
import { toWellFormed } from '../csv/well-formed.ts'
import { createUtf8Decoder, type StreamDecoder } from '../encoding/text-decoder.ts'
import type { ResultEncoding } from '../../domain/query.ts'
import type { Column, RowSink, RowSource, SourceSummary } from '../types.ts'
import { RowCollector } from './row-collector.ts'

export interface StoredCsvOptions {
  separator: string
  /** The first row is the header (the result was written with `include_header=true`). */
  header: boolean
  /** The record's column names and types; labels come from the header row when there is one. */
  metadata?: ColumnMetadata
  /** The encoding the file was written in (default UTF-8). */
  encode?: ResultEncoding
}

const HEADER = 0
const CELL_START = 1
const UNQUOTED = 2
const QUOTED = 3
/** A `"` inside a quoted cell: doubled (a quote in the text) or the cell's end. */
const AFTER_QUOTE = 4

/** Complete rows are handed on once this many cells wait. */
const BATCH_CELLS = 8192

/** `decode`: the decoder of `options.encode` (text-decoder.ts#loadStreamDecoder); UTF-8 by default. */
export function createStoredCsvSource(
  options: StoredCsvOptions,
  sink: RowSink,
  decode?: StreamDecoder,
): RowSource {
  return new StoredCsvSource(options, sink, decode)
}

class StoredCsvSource extends RowCollector implements RowSource {
  // The bytes were written from these strings, so a lone surrogate reads back as U+FFFD.
  private readonly sep: string
  private readonly decode: StreamDecoder
  private columns: readonly Column[]
  /** Text not yet consumed; `i` is where scanning resumes, `cellStart` the open cell. */
  private text = ''
  private i = 0
  private cellStart = 0
  private state: number
  private headerLength = 0
  /** Characters before `text`, for error positions. */
  private consumed = 0

  constructor(
    options: StoredCsvOptions,
    private readonly sink: RowSink,
    decode: StreamDecoder | undefined,
  ) {
    super()
    if (options.separator.length === 0) throw new TypeError('The CSV separator must not be empty.')
    this.sep = toWellFormed(options.separator)
    if (this.sep.includes('"')) {
      throw new TypeError('A stored CSV whose separator holds a quote cannot be read back.')
    }
    if (/[\r\n]/.test(this.sep)) {
      throw new TypeError('A stored CSV whose separator holds a line end cannot be read back.')
    }
    if (!decode && options.encode === 'gbk') {
      throw new TypeError('A stored GBK file needs its decoder (loadStreamDecoder) passed in.')
    }
    this.decode = decode ?? createUtf8Decoder()
    this.columns = options.metadata ? toColumnsOfMetadata(options.metadata) : []
    this.state = options.header ? HEADER : CELL_START
    if (!options.header) sink.start(this.columns)
  }

  push(chunk: Uint8Array): void {
    this.text += this.decode(chunk, true)
    this.scan(false)
    this.deliver()
  }

  finish(): SourceSummary {
    this.text += this.decode(new Uint8Array(0), false)
    this.scan(true)
    this.deliver()
    return { columns: this.columns, rows: this.rows, partial: false }
  }

  /** Reads as far as the text allows; at the end of the input (`final`) the last row ends. */
  private scan(final: boolean): void {
    const { sep, text } = this
    let cells = this.cells
    let i = this.i
    let state = this.state
    let cellStart = this.cellStart
    main: for (;;) {
      switch (state) {
        case HEADER: {
          const labels = this.readHeader(text, final)
          if (labels === null) break main // the header row is not complete yet
          const known = this.columns
          this.columns = labels.map((label, k) => ({ ...toBlank(known[k], label), label }))
          this.sink.start(this.columns)
          i = this.headerLength
          state = CELL_START
          continue main
        }
        case CELL_START: {
          cellStart = i
          if (i >= text.length) {
            if (final && cells.length > (this.rowEnds.at(-1) ?? 0)) this.endAfterSeparator()
            break main
          }
          state = text.charCodeAt(i) === 34 ? QUOTED : UNQUOTED
          if (state === QUOTED) i++
          continue main
        }
        case UNQUOTED: {
          const s = text.indexOf(sep, i)
          const n = text.indexOf('\n', i)
          if (n >= 0 && (s < 0 || n < s)) {
            // A separator that would start at or before this `\n` but is cut by the chunk's
            // end would win over it: wait for the rest.
            if (s < 0 && !final && isCutBefore(text, Math.max(i, cellStart), n, sep)) break main
            cells.push(text.slice(cellStart, n) || null)
            this.endRow()
            i = n + 1
            state = CELL_START
          } else if (s >= 0) {
            if (!final && s + 2 * sep.length > text.length) {
              i = s // an overlapping match may still come: see toCellEnd
              break main
            }
            if (final && s + sep.length === text.length && sep.endsWith('\n')) {
              // The body's last `\n` ends its last row: `a|` + `\n`, not `a` + `|\n`.
              cells.push(text.slice(cellStart, n) || null)
              this.endRow()
              i = n + 1
            } else {
              const at = toCellEnd(text, s, sep)
              cells.push(text.slice(cellStart, at) || null)
              i = at + sep.length
            }
            state = CELL_START
          } else if (final) {
            cells.push(text.slice(cellStart) || null)
            this.endRow()
            i = text.length
            state = CELL_START
          } else {
            // Nothing found: only a cut separator at the very end must be looked at again.
            i = Math.max(i, text.length - sep.length + 1)
            break main
          }
          if (cells.length >= BATCH_CELLS) {
            this.deliver()
            cells = this.cells
          }
          continue main
        }
        case QUOTED: {
          const q = text.indexOf('"', i)
          if (q < 0) {
            if (final) this.fail('a quoted cell is not closed', cellStart)
            i = text.length
            break main
          }
          i = q + 1
          state = AFTER_QUOTE
          continue main
        }
        case AFTER_QUOTE: {
          if (i >= text.length && !final) break main
          if (text.charCodeAt(i) === 34) {
            i++
            state = QUOTED
            continue main
          }
          if (text.startsWith(sep, i)) {
            cells.push(toQuotedCell(text, cellStart, i))
            i += sep.length
          } else if (!final && isCutPrefix(text, i, sep)) {
            break main
          } else if (i >= text.length || text.charCodeAt(i) === 10) {
            cells.push(toQuotedCell(text, cellStart, i))
            this.endRow()
            i++
          } else {
            this.fail('a quoted cell is followed by neither the separator nor a line end', i)
          }
          state = CELL_START
          continue main
        }
      }
    }
    // Drop what is consumed: the open cell (or the next one) is all that is kept.
    const keep = state === CELL_START ? Math.min(i, text.length) : cellStart
    this.consumed += keep
    this.text = text.slice(keep)
    this.i = i - keep
    this.cellStart = cellStart - keep
    this.state = state
  }

  /**
   * The header row's labels, or null until it is complete (`headerLength` is then its length
   * with the `\n`). Labels are not escaped, so with the record's columns known the row is that
   * many labels (a separator holding `\n` then still reads right); otherwise it is one line.
   */
  private readHeader(text: string, final: boolean): string[] | null {
    const count = this.columns.length
    const labels: string[] = []
    let from = 0
    if (count > 0) {
      for (let k = 1; k < count; k++) {
        const at = text.indexOf(this.sep, from)
        if (at < 0 && !final) return null
        if (at < 0) break
        labels.push(text.slice(from, at))
        from = at + this.sep.length
      }
    }
    let end = text.indexOf('\n', from)
    if (end < 0 && !final) return null
    if (end < 0 && text.length === 0) this.fail('the stored CSV ended before its header row', 0)
    if (end < 0) end = text.length
    const last = text.slice(from, end)
    this.headerLength = end + 1
    return count > 0 ? [...labels, last] : last.split(this.sep)
  }

  /**
   * The input ended just after a separator: the last row lacks its line end and its last cell
   * is empty, unless the separator is `\n` itself (after a quoted cell), which ended the row.
   */
  private endAfterSeparator(): void {
    if (this.sep !== '\n') this.cells.push(null)
    this.endRow()
  }

  /** Hands on the complete rows read so far; the open row's cells stay. */
  private deliver(): void {
    const batch = this.take()
    if (batch !== null) this.sink.rows(batch)
  }

  private fail(reason: string, at: number): never {
    throw new GatewayError(500, {
      text: `The stored CSV result is not valid at character ${this.consumed + at}: ${reason}.`,
    })
  }
}

/** The content of the quoted cell that opened at `start` and closed just before `end`. */
function toQuotedCell(text: string, start: number, end: number): string {
  return text.slice(start + 1, end - 1).replaceAll('""', '"')
}

/**
 * Where the separator that ends an unquoted cell starts, given its first match at `s`. A cell
 * may end in part of the separator (`a|` + `||`); the match is then ambiguous, and the one
 * followed by `"` is taken, as only a quoted cell starts with `"`.
 */
function toCellEnd(text: string, s: number, sep: string): number {
  for (let at = s + 1; at < s + sep.length; at++) {
    if (text.startsWith(sep, at) && text.charCodeAt(at + sep.length) === 34) return at
  }
  return s
}

/** Whether `text` from `at` to its end is a proper beginning of `sep` (more may follow). */
function isCutPrefix(text: string, at: number, sep: string): boolean {
  const rest = text.length - at
  return rest < sep.length && sep.startsWith(text.slice(at))
}

/** Whether a cut separator (see isCutPrefix) starts somewhere in `text[from, to]`. */
function isCutBefore(text: string, from: number, to: number, sep: string): boolean {
  for (let at = Math.max(from, text.length - sep.length + 1); at <= to; at++) {
    if (isCutPrefix(text, at, sep)) return true
  }
  return false
}

/** The record's column at that place, or one known by its header label only. */
function toBlank(column: Column | undefined, label: string): Column {
  return (
    column ?? { label, name: label, typeName: '', precision: null, scale: null, nullable: null }
  )
}
