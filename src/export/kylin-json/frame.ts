/**
 * Everything of a Kylin `SQLResponse` outside `results`: finds where `results` starts and ends,
 * collects the other members' bytes (small) for JSON.parse, which also validates them, and turns
 * an exception, an envelope or a wrong shape into an UpstreamError. Portable.
 */
import { UpstreamError } from '../../errors.ts'
import { isKylinEnvelope, toEnvelopeFailure } from '../../upstream/kylin-error.ts'
import {
  BACKSLASH,
  COLON,
  COMMA,
  LIT_NULL,
  MAX_SIDE_BYTES,
  MIB,
  QUOTE,
  describeByte,
  isSpace,
} from './bytes.ts'
import { checkException, describeShape, isObject, isSuccessEnvelope } from './response-shape.ts'

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
/** Inside the `results` array: the caller reads the rows until it calls `endResults`. */
const S_RESULTS = 14

const RESULTS_KEY = [114, 101, 115, 117, 108, 116, 115] // "results"
const DATA_KEY = [100, 97, 116, 97] // "data"

/**
 * The resumable scanner of the object around `results`, with the error wording every reader of
 * Kylin JSON shares (byte offsets count from the start of the body).
 */
export class KylinResponseFrame {
  /** Input bytes before the current chunk; the caller adds each chunk's length after it. */
  consumed = 0
  private state = S_START
  private depth = 0
  private keyBytes: number[] = []
  private keyEscaped = false
  private keyIsResults = false
  private keyIsData = false
  private resultsSeen = false
  /**
   * 1 inside the `data` object of a `{"code","data","msg"}` envelope (Kylin 5 and KE 4 wrap a
   * SQLResponse so): its members are scanned as a SQLResponse's are, `results` streamed.
   */
  private level = 0
  private side = new Uint8Array(1024)
  private sideLength = 0

  /** Whether the scanner stopped just inside `results`: the caller reads rows from there. */
  get inResults(): boolean {
    return this.state === S_RESULTS
  }

  /** The caller read the `]` that ends `results`: the members after it are scanned again. */
  endResults(): void {
    this.state = S_AFTER_VALUE
  }

  fail(reason: string, at: number): never {
    throw new UpstreamError(
      `The upstream Kylin's answer is not valid JSON at byte ${this.consumed + at}: ${reason}; no result was kept.`,
    )
  }

  failShape(reason: string, at: number): never {
    throw new UpstreamError(
      `The upstream Kylin's answer is not a Kylin result at byte ${this.consumed + at}: ${reason}; no result was kept.`,
    )
  }

  /**
   * The members before `results`, parsed once `"results": [` was found: an exception fails
   * early, and `columnMetas` is there when Kylin wrote it first (its own order).
   */
  readHead(): Record<string, unknown> {
    if (this.level === 0) return parseSide(this.sideText() + '}')
    const outer = parseSide(this.sideText() + '}}')
    return isObject(outer.data) ? checkException(outer.data) : {}
  }

  /** The body has ended: the whole object outside `results`, validated. */
  finish(): Record<string, unknown> {
    if (this.state !== S_END) {
      throw new UpstreamError(
        `The upstream Kylin's answer ended before the JSON was complete (after ${this.consumed} bytes); no result was kept.`,
      )
    }
    const outer = parseSide(this.sideText())
    // Decided only here, once every member is known; a failing answer's rows, if any were read,
    // never become a result.
    const response = isSuccessEnvelope(outer) ? checkException(outer.data) : outer
    if (response === outer && isKylinEnvelope(outer)) {
      throw new UpstreamError(toEnvelopeFailure(outer))
    }
    if (this.resultsSeen ? response.results !== null : !isArrayOrAbsent(response.results)) {
      throw new UpstreamError(
        'The upstream Kylin sent a result whose "results" is not an array; no result was kept.',
      )
    }
    // Only a result is a result: JSON of another shape must not become an empty file.
    const columnMetas = response.columnMetas
    const noColumns = columnMetas === undefined || columnMetas === null
    if ((noColumns && !this.resultsSeen) || !(noColumns || Array.isArray(columnMetas))) {
      throw new UpstreamError(
        `The upstream Kylin answered JSON that is not a query result (${describeShape(response)}); no result was kept. Check that KYLIN_UPSTREAM_URL points at Kylin itself.`,
      )
    }
    return response
  }

  /**
   * Scans `buf[from, end)` outside `results`: structure only (strings and nesting), collecting
   * the bytes. Returns where it stopped: `end`, or just after the `[` of `results`.
   */
  scan(buf: Uint8Array, from: number, end: number): number {
    let state = this.state
    let j = from
    // Start of the not-yet-collected bytes of a member, or -1 once the object has ended.
    let segment = state !== S_END ? j : -1
    main: while (j < end) {
      switch (state) {
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
            if (this.level === 1) {
              this.level = 0
              state = S_AFTER_VALUE
              continue main
            }
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
            this.keyIsResults = this.isKey(RESULTS_KEY, 'results')
            this.keyIsData = this.level === 0 && this.isKey(DATA_KEY, 'data')
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
            this.appendSide(LIT_NULL, 0, LIT_NULL.length)
            this.state = S_RESULTS
            return j + 1
          }
          if (this.keyIsData && b === 123) {
            // An envelope's `data`: scanned member by member for a `results` to stream.
            j++
            this.level = 1
            state = S_OBJ_OPEN
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
            } else if (b === 125 && this.level === 1) {
              this.level = 0
              state = S_AFTER_VALUE
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
          } else if (b === 125 && this.level === 1) {
            this.level = 0
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
          throw new Error(`kylin-json: unknown state ${state}`)
      }
    }
    if (segment >= 0) this.appendSide(buf, segment, end)
    this.state = state
    return j
  }

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

  private isKey(bytes: readonly number[], name: string): boolean {
    const key = this.keyBytes
    if (!this.keyEscaped) {
      return key.length === bytes.length && key.every((b, i) => b === bytes[i])
    }
    try {
      const text = new TextDecoder().decode(new Uint8Array(key))
      return JSON.parse(`"${text}"`) === name
    } catch {
      return false // invalid: the final JSON.parse of these bytes reports it
    }
  }
}

function parseSide(text: string): Record<string, unknown> {
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
  return checkException(parsed as Record<string, unknown>)
}

function isArrayOrAbsent(value: unknown): boolean {
  return value === undefined || value === null || Array.isArray(value)
}
