/**
 * The fused kernel's fast path (src/export/kylin-csv/fast-rows.ts) as WebAssembly with SIMD:
 * whole rows of string and null cells inside one input window, string content scanned 16 bytes
 * at a time. AssemblyScript; built by `npm run build:wasm` into src/export/kylin-csv/wasm/.
 */

// Fixed memory, no allocator: page 0 for the compiler's statics, then input, output, tables.
// Input and output keep spare bytes after them for 16-byte reads and writes past the end.
export const IN: i32 = 0x10000
export const IN_SIZE: i32 = 0x10000
export const OUT: i32 = 0x20100
export const OUT_SIZE: i32 = 0x10000
export const SEP: i32 = 0x30200
export const SEP_MAX: i32 = 64
const CLS: i32 = 0x30240
/** Sixteen swizzle masks: entry `n` moves bytes n..15 of a vector to its front. */
const SHIFT: i32 = 0x30400
/**
 * Where `rows` leaves the output position, the row state, the rows it completed, its ST_ status
 * and, of those rows, how many `blocks` read.
 */
export const RESULT: i32 = 0x30340
/** Lanes 0-7 take byte 0 of an i16 splat, lanes 8-15 byte 1 (bits → byte masks, `byteMask`). */
const SPREAD: i32 = 0x30500
/** Each lane's bit within its byte: 1, 2, 4, … 128, twice. */
const BITS: i32 = 0x30510
/** 256 entries of 8 lane indices: entry `m` lists the set bits of `m`, lowest first. */
const COMPACT: i32 = 0x30800

// What `rows` ended on, at RESULT + 12.
const ST_END: i32 = 0 // the window ended between rows
const ST_SLOW: i32 = 1 // the row machine must read the row at the returned index
const ST_ROOM: i32 = 2 // the output is full: flush, then call again
const ST_CUT: i32 = 3 // a row runs past the window's end

// A row or cell ran into the window's end, or needs the row machine.
const CUT: i32 = -1
const SLOW: i32 = -2

// Byte classes inside a string cell, and row states, as in kylin-csv/constants.ts.
const K_COPY: u8 = 0
const K_END: u8 = 1
const K_ESC: u8 = 2
const K_CTRL: u8 = 3
const K_SEP: u8 = 4
const R_AFTER_ROW: i32 = 21
const R_EXPECT_ROW: i32 = 22
const F_QUOTE: i32 = 1
const F_CRLF: i32 = 2
const F_SEP: i32 = 4
/** `null` read as a little-endian 32-bit word. */
const NULL_WORD: u32 = 0x6c6c756e

let sepLength: i32 = 1
let sep0: i32 = 44
/** Output bytes kept free beyond the window's budget: 16-byte writes and separators ahead. */
let spare: i32 = 40
/** The output position a row or cell function ended at. */
let end: i32 = 0

/** Reads the separator (its bytes already at SEP) and builds the byte classes. */
export function configure(length: i32): void {
  sepLength = length
  sep0 = load<u8>(SEP)
  spare = 32 + 2 * length
  for (let b = 0; b < 256; b++) store<u8>(CLS + b, b < 32 ? K_CTRL : K_COPY)
  store<u8>(CLS + 34, K_END)
  store<u8>(CLS + 92, K_ESC)
  if (sep0 >= 32 && sep0 != 34 && sep0 != 92) store<u8>(CLS + sep0, K_SEP)
  for (let n = 0; n < 16; n++) {
    for (let i = 0; i < 16; i++) store<u8>(SHIFT + (n << 4) + i, n + i)
  }
  for (let i = 0; i < 16; i++) {
    const bit: i32 = 1 << (i & 7)
    store<u8>(SPREAD + i, <u8>(i >> 3))
    store<u8>(BITS + i, <u8>bit)
  }
  for (let m = 0; m < 256; m++) {
    let n = 0
    for (let i = 0; i < 8; i++) if ((m & (1 << i)) != 0) store<u8>(COMPACT + (m << 3) + n++, <u8>i)
    while (n < 8) store<u8>(COMPACT + (m << 3) + n++, 0)
  }
}

/**
 * Whole rows from input index `from` to `limit` (an index in the input window of `length`
 * bytes), written from output position `pos`; `state` is a row-boundary state. Returns the input
 * index reached, a row boundary; RESULT holds the output position, the state, the rows completed,
 * the ST_ status and the rows `blocks` read. With a one-byte separator each row is first tried 64
 * bytes at a time (`blocks`), and `row` reads one where that stops. The window is cut to what the
 * free output can take: from a row boundary the output grows by at most max(1, (separator + 2) /
 * 3) bytes per input byte (`blocks` writes no more than it reads).
 */
export function rows(length: i32, from: i32, pos: i32, state: i32): i32 {
  const room = OUT_SIZE - pos - spare
  const most = sepLength <= 1 ? room : (room * 3) / (sepLength + 2)
  const limit = length - from <= most ? length : from + most
  let j = from
  let done = 0
  let inBlocks = 0
  let status = -1
  while (status < 0) {
    // Between rows: ',' and whitespace write nothing.
    for (;;) {
      if (j >= limit) {
        status = limit == length ? ST_END : ST_ROOM
        break
      }
      const b = load<u8>(IN + j)
      if (b == 91 && state != R_AFTER_ROW) break
      if (b == 44 && state == R_AFTER_ROW) {
        state = R_EXPECT_ROW
      } else if (!isSpace(b)) {
        status = ST_SLOW
        break
      }
      j++
    }
    if (status >= 0) break
    if (sepLength == 1) {
      const reached = blocks(j, limit, pos)
      if (blockRows > 0) {
        pos = end
        done += blockRows
        inBlocks += blockRows
        j = reached
        state = R_AFTER_ROW
        continue
      }
    }
    const next = row(j + 1, limit, pos)
    if (next == CUT) {
      status = limit == length ? ST_CUT : ST_ROOM
      break
    }
    if (next == SLOW) {
      status = ST_SLOW
      break
    }
    pos = end
    store<u8>(OUT + pos, 10)
    pos++
    done++
    j = next
    state = R_AFTER_ROW
  }
  store<i32>(RESULT, pos)
  store<i32>(RESULT + 4, state)
  store<i32>(RESULT + 8, done)
  store<i32>(RESULT + 12, status)
  store<i32>(RESULT + 16, inBlocks)
  return j
}

/** The rows `blocks` completed. */
let blockRows: i32 = 0

/** The 64 bits of `x == b` for the four vectors of a block, byte i at bit i. */
function eqBits(x0: v128, x1: v128, x2: v128, x3: v128, b: v128): u64 {
  return (
    (<u64>i8x16.bitmask(i8x16.eq(x0, b))) |
    ((<u64>i8x16.bitmask(i8x16.eq(x1, b))) << 16) |
    ((<u64>i8x16.bitmask(i8x16.eq(x2, b))) << 32) |
    ((<u64>i8x16.bitmask(i8x16.eq(x3, b))) << 48)
  )
}

/** Bit 63 of `before`, then `m` moved one byte on: "the byte before was one of `m`". */
function after(m: u64, before: u64): u64 {
  return (m << 1) | (before >> 63)
}

/** The lanes of a vector whose bit is set in the 16 bits of `bits`, as a byte mask. */
function byteMask(bits: i32): v128 {
  const lanes = v128.and(i8x16.swizzle(i16x8.splat(<i16>bits), v128.load(SPREAD)), v128.load(BITS))
  return i8x16.eq(lanes, v128.load(BITS))
}

/**
 * One vector's 16 bytes, `]` already turned into the row end, written without the bytes that
 * `keep` (its 16 bits) leaves out: eight at a time through the COMPACT table. The new position.
 */
function compact(x: v128, keep: i32, pos: i32): i32 {
  const low = keep & 0xff
  const high = keep >> 8
  v128.store(OUT + pos, i8x16.swizzle(x, v128.load64_zero(COMPACT + (low << 3))))
  pos += popcnt(low)
  const highLanes = i8x16.add(v128.load64_zero(COMPACT + (high << 3)), i8x16.splat(8))
  v128.store(OUT + pos, i8x16.swizzle(x, highLanes))
  return pos + popcnt(high)
}

/**
 * Whole rows from input index `k` (a row's `[`), 64 bytes a step while they lie inside `limit`,
 * for a one-byte separator: the input index after the last row completed (`end` its output
 * position, `blockRows` the rows), or `k` with no row, where `row` takes over.
 *
 * Every byte of a block is classed at once, as bits: which are inside strings (a running XOR of
 * the quotes, as no backslash is let through), and which structural bytes lie outside them. A
 * block is good where the bytes outside strings follow the grammar of string and null cells
 * (`[`, a value, `,` value …, `]`, then `,` and `[`, nothing between); then the cells are the
 * block without its quotes, brackets, the commas between rows and the nulls, with `]` become the
 * row end and the commas between cells the separator — deleting bytes is a table shuffle per
 * eight. A cell holding the separator keeps its quotes (it needs them and holds no `"`). The first
 * bad byte (an escape, a control byte, whitespace, a number, a `]` inside a string, any slip of
 * the grammar) ends the run: only rows whose `]` lies before it count, and `row` reads the next
 * row whole.
 */
function blocks(k: i32, limit: i32, pos: i32): i32 {
  const QUOTE = i8x16.splat(34)
  const BACKSLASH = i8x16.splat(92)
  const CONTROL = i8x16.splat(32)
  const COMMA = i8x16.splat(44)
  const OPEN = i8x16.splat(91)
  const CLOSE = i8x16.splat(93)
  const NULL_N = i8x16.splat(110)
  const ROW_END = i8x16.splat(10)
  const SEPARATOR = i8x16.splat(<i8>sep0)
  const commaIsSeparator = sep0 == 44
  let boundary = k
  end = pos
  blockRows = 0
  // What the last block leaves the next, each at its bit 63 (or as a mask of the next block).
  let inString: u64 = 0
  let lastValueEnd: u64 = 0
  let lastClose: u64 = 0
  let lastOpen: u64 = 0
  let lastRowComma: u64 = 0
  let lastCellComma: u64 = 0
  let nullTailIn: u64 = 0
  let nullEndIn: u64 = 0
  let keepNextClose = false
  /** Where the last opening quote would stand in the output, had it been kept. */
  let lastOpenAt = pos
  while (k + 64 <= limit) {
    const x0 = v128.load(IN + k)
    const x1 = v128.load(IN + k + 16)
    const x2 = v128.load(IN + k + 32)
    const x3 = v128.load(IN + k + 48)
    const quotes = eqBits(x0, x1, x2, x3, QUOTE)
    const escapes =
      eqBits(x0, x1, x2, x3, BACKSLASH) |
      (<u64>i8x16.bitmask(i8x16.lt_u(x0, CONTROL))) |
      ((<u64>i8x16.bitmask(i8x16.lt_u(x1, CONTROL))) << 16) |
      ((<u64>i8x16.bitmask(i8x16.lt_u(x2, CONTROL))) << 32) |
      ((<u64>i8x16.bitmask(i8x16.lt_u(x3, CONTROL))) << 48)
    const commas = eqBits(x0, x1, x2, x3, COMMA)
    const opens = eqBits(x0, x1, x2, x3, OPEN)
    const closes = eqBits(x0, x1, x2, x3, CLOSE)
    const ns = eqBits(x0, x1, x2, x3, NULL_N)
    // Inside a string: its opening quote and content, not its closing quote.
    let s = quotes ^ (quotes << 1)
    s ^= s << 2
    s ^= s << 4
    s ^= s << 8
    s ^= s << 16
    s ^= s << 32
    s ^= inString
    const content = s & ~quotes
    const outside = ~s & ~quotes
    const openQuotes = quotes & s
    const closeQuotes = quotes & ~s
    const cellCommas = commas & outside
    const rowOpens = opens & outside
    const nulls = ns & outside
    let bad = escapes | (closes & content)
    // Nulls: `null` in full (it may run into the next block).
    let nullTail = nullTailIn
    let valueEnds = closeQuotes | nullEndIn
    let nextTail: u64 = 0
    let nextEnd: u64 = 0
    let n = nulls
    while (n != 0) {
      const p = <i32>ctz(n)
      n &= n - 1
      // One running past the block ends no row here: were its bytes past limit, no block follows.
      if (load<u32>(IN + k + p) != NULL_WORD) {
        bad |= (<u64>1) << p
        continue
      }
      nullTail |= (<u64>0xe) << p
      valueEnds |= (<u64>8) << p
      if (p > 60) {
        nextTail |= (<u64>0xe) >> (64 - p)
        nextEnd |= (<u64>8) >> (64 - p)
      }
    }
    // A cell holding the separator keeps its quotes: the last opening quote before it (or the
    // one an earlier block left out) and the first closing quote after it, which may lie in the
    // next block.
    let keep: u64 = 0
    let carryKeep = false
    let x = content & (commaIsSeparator ? commas : eqBits(x0, x1, x2, x3, SEPARATOR))
    if (keepNextClose) {
      const first = closeQuotes & (0 - closeQuotes)
      if (first != 0) keep |= first
      else carryKeep = true
      // Separators in the rest of the cell whose quotes are kept already.
      x &= first == 0 ? 0 : ~(first - 1)
    }
    while (x != 0) {
      const p = <i32>ctz(x)
      const below = ((<u64>2) << p) - 1
      const open = openQuotes & below
      if (open == 0) {
        // The cell began in an earlier block, which left its opening quote out: put it back.
        memory.copy(OUT + lastOpenAt + 1, OUT + lastOpenAt, pos - lastOpenAt)
        store<u8>(OUT + lastOpenAt, 34)
        pos++
      } else {
        keep |= (<u64>1) << (63 - <i32>clz(open))
      }
      const close = closeQuotes & ~below
      if (close == 0) {
        carryKeep = true
        break
      }
      const first = close & (0 - close)
      keep |= first
      // Later separators of the same cell are done with.
      x &= ~((first << 1) - 1)
    }
    // The grammar, as "the byte after one of these must be one of those": a value ends in `,`
    // or `]`, `]` is followed by `,`, `[` by a value, the `,` after a row by `[`, the `,` after
    // a value by a value. Every byte outside a string follows one of these, a null's first three
    // or an earlier byte outside a string, so the first one out of place breaks a rule.
    const valueStarts = openQuotes | nulls
    const rowCommas = cellCommas & after(closes, lastClose)
    const betweenCells = cellCommas & after(valueEnds, lastValueEnd)
    bad |= after(valueEnds, lastValueEnd) & ~(cellCommas | closes)
    bad |= after(closes, lastClose) & ~cellCommas
    bad |= after(rowOpens, lastOpen) & ~valueStarts
    bad |= after(rowCommas, lastRowComma) & ~rowOpens
    bad |= after(betweenCells, lastCellComma) & ~valueStarts
    const drop = (quotes & ~keep) | rowOpens | rowCommas | nulls | nullTail
    const kept = ~drop
    const at = pos
    let y0 = v128.bitselect(ROW_END, x0, i8x16.eq(x0, CLOSE))
    let y1 = v128.bitselect(ROW_END, x1, i8x16.eq(x1, CLOSE))
    let y2 = v128.bitselect(ROW_END, x2, i8x16.eq(x2, CLOSE))
    let y3 = v128.bitselect(ROW_END, x3, i8x16.eq(x3, CLOSE))
    if (!commaIsSeparator) {
      y0 = v128.bitselect(SEPARATOR, y0, byteMask((<i32>cellCommas) & 0xffff))
      y1 = v128.bitselect(SEPARATOR, y1, byteMask((<i32>(cellCommas >> 16)) & 0xffff))
      y2 = v128.bitselect(SEPARATOR, y2, byteMask((<i32>(cellCommas >> 32)) & 0xffff))
      y3 = v128.bitselect(SEPARATOR, y3, byteMask((<i32>(cellCommas >> 48)) & 0xffff))
    }
    if (openQuotes != 0) {
      lastOpenAt = at + <i32>popcnt(kept & (((<u64>1) << (63 - <i32>clz(openQuotes))) - 1))
    }
    pos = compact(y0, (<i32>kept) & 0xffff, pos)
    pos = compact(y1, (<i32>(kept >> 16)) & 0xffff, pos)
    pos = compact(y2, (<i32>(kept >> 32)) & 0xffff, pos)
    pos = compact(y3, (<i32>(kept >> 48)) & 0xffff, pos)
    // Rows whose `]` comes before the first bad byte are done.
    const good = bad == 0 ? <u64>-1 : ((<u64>1) << ctz(bad)) - 1
    const rowEnds = closes & good
    if (rowEnds != 0) {
      const r = 63 - <i32>clz(rowEnds)
      boundary = k + r + 1
      end = at + <i32>popcnt(kept & (((<u64>2) << r) - 1))
      blockRows += <i32>popcnt(rowEnds)
    }
    if (bad != 0) break
    inString = <u64>((<i64>s) >> 63)
    lastValueEnd = valueEnds
    lastClose = closes
    lastOpen = rowOpens
    lastRowComma = rowCommas
    lastCellComma = betweenCells
    nullTailIn = nextTail
    nullEndIn = nextEnd
    keepNextClose = carryKeep
    k += 64
  }
  return boundary
}

/** One row's cells from input index `k` (after its `[`): the index after its `]`, CUT or SLOW. */
function row(k: i32, limit: i32, pos: i32): i32 {
  if (k >= limit) return CUT
  let b: i32 = load<u8>(IN + k)
  while (isSpace(b)) {
    if (++k >= limit) return CUT
    b = load<u8>(IN + k)
  }
  if (b == 93) {
    end = pos
    return k + 1
  }
  for (;;) {
    if (b == 34) {
      k = cells(k + 1, limit, pos)
      if (k < 0) return k
      pos = end
    } else if (b == 110) {
      if (k + 4 > limit) return CUT
      if (load<u32>(IN + k) != NULL_WORD) return SLOW
      k += 4
    } else {
      return SLOW
    }
    if (k >= limit) return CUT
    b = load<u8>(IN + k)
    while (isSpace(b)) {
      if (++k >= limit) return CUT
      b = load<u8>(IN + k)
    }
    if (b == 44) {
      pos = writeSeparator(pos)
      if (++k >= limit) return CUT
      b = load<u8>(IN + k)
      while (isSpace(b)) {
        if (++k >= limit) return CUT
        b = load<u8>(IN + k)
      }
      continue
    }
    if (b == 93) {
      end = pos
      return k + 1
    }
    return SLOW
  }
}

/**
 * A string cell from input index `k` (after its opening quote), and the cells after it while
 * they follow as `","`: the index after the last closing quote, CUT or SLOW. Sixteen bytes are
 * compared with `"`, `\`, the separator's first byte and the control range at once and written
 * whole (the output keeps spare bytes); every `","` among them (the end of a plain cell and the
 * start of the next, the commonest step of all) becomes the separator, the rest of the sixteen
 * written again after it, shifted, so short cells cost no new load each.
 */
function cells(k: i32, limit: i32, pos: i32): i32 {
  const quote = i8x16.splat(34)
  const backslash = i8x16.splat(92)
  const separator = i8x16.splat(<i8>sep0)
  const control = i8x16.splat(32)
  let cellStart = pos
  let sepSeen = false
  for (;;) {
    if (k >= limit) return CUT
    const x = v128.load(IN + k)
    const quotes = i8x16.bitmask(i8x16.eq(x, quote))
    const others = v128.or(i8x16.eq(x, backslash), i8x16.eq(x, separator))
    let m = quotes | i8x16.bitmask(v128.or(others, i8x16.lt_u(x, control)))
    v128.store(OUT + pos, x)
    const left = limit - k
    if (left < 16) m |= -1 << left
    // `from`: the byte of x that out[pos] holds; `at`: the flagged byte to look at.
    let from = 0
    let at = -1
    while (m != 0) {
      const r = ctz(m)
      pos += r - from
      if (sepSeen || r + 3 > left || ((quotes >> r) & 5) != 5 || load<u8>(IN + k + r + 1) != 44) {
        at = r
        break
      }
      pos = writeSeparator(pos)
      cellStart = pos
      from = r + 3
      if (from >= 16) break
      v128.store(OUT + pos, i8x16.swizzle(x, v128.load(SHIFT + (from << 4))))
      m &= -1 << from
    }
    if (at < 0) {
      // No flagged byte left in x: on with the next sixteen.
      if (from < 16) pos += 16 - from
      k += max(from, 16)
      continue
    }
    k += at
    if (k >= limit) return CUT
    const b = load<u8>(IN + k)
    const c = load<u8>(CLS + b)
    k++
    if (c == K_END) return endPlainCell(k, cellStart, pos, sepSeen)
    if (c == K_SEP) {
      sepSeen = true
      store<u8>(OUT + pos, b)
      pos++
      continue
    }
    if (c == K_ESC) return escapedCell(k, limit, sepSeen ? F_SEP : 0, cellStart, pos)
    return SLOW
  }
}

/** A string cell without escapes ended at `pos` (input index `k` is after its quote). */
function endPlainCell(k: i32, cellStart: i32, pos: i32, sepSeen: bool): i32 {
  if (sepSeen && (sepLength == 1 || hasSeparator(cellStart, pos))) {
    // No escapes, so no quotes inside: quoting is a shift by one.
    memory.copy(OUT + cellStart + 1, OUT + cellStart, pos - cellStart)
    store<u8>(OUT + cellStart, 34)
    store<u8>(OUT + pos + 1, 34)
    pos += 2
  }
  end = pos
  return k
}

/**
 * The rest of a string cell after its first `\` (at k-1): escapes decoded to the UTF-8 that
 * JSON.parse + TextEncoder give, then the quoting. A lone surrogate (U+FFFD, with its separator
 * subtleties) or a bad escape is left to the row machine (SLOW). No escape decodes to more bytes
 * than it spans, so the window's budget holds.
 */
function escapedCell(k: i32, limit: i32, flags: i32, cellStart: i32, pos: i32): i32 {
  let high: i32 = 0
  for (;;) {
    // k is just after a backslash.
    if (k >= limit) return CUT
    let unit = unescape(load<u8>(IN + k++))
    if (unit == -2) {
      if (k + 4 > limit) return CUT
      const a = hexValue(load<u8>(IN + k))
      const b = hexValue(load<u8>(IN + k + 1))
      const c = hexValue(load<u8>(IN + k + 2))
      const d = hexValue(load<u8>(IN + k + 3))
      if ((a | b | c | d) < 0) return SLOW
      unit = (a << 12) | (b << 8) | (c << 4) | d
      k += 4
    } else if (unit < 0) {
      return SLOW
    }
    const written = pos
    if (high != 0) {
      if (unit < 0xdc00 || unit > 0xdfff) return SLOW
      const cp = 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00)
      store<u8>(OUT + pos, 0xf0 | (cp >> 18))
      store<u8>(OUT + pos + 1, 0x80 | ((cp >> 12) & 0x3f))
      store<u8>(OUT + pos + 2, 0x80 | ((cp >> 6) & 0x3f))
      store<u8>(OUT + pos + 3, 0x80 | (cp & 0x3f))
      pos += 4
      high = 0
    } else if (unit >= 0xd800 && unit <= 0xdbff) {
      high = unit
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return SLOW
    } else if (unit >= 0x800) {
      store<u8>(OUT + pos, 0xe0 | (unit >> 12))
      store<u8>(OUT + pos + 1, 0x80 | ((unit >> 6) & 0x3f))
      store<u8>(OUT + pos + 2, 0x80 | (unit & 0x3f))
      pos += 3
    } else if (unit >= 0x80) {
      store<u8>(OUT + pos, 0xc0 | (unit >> 6))
      store<u8>(OUT + pos + 1, 0x80 | (unit & 0x3f))
      pos += 2
    } else {
      store<u8>(OUT + pos, unit)
      pos++
      if (unit == 34) flags |= F_QUOTE
      else if (unit == 10 || unit == 13) flags |= F_CRLF
    }
    for (let i = written; i < pos; i++) if (load<u8>(OUT + i) == sep0) flags |= F_SEP
    // Plain bytes up to the next escape or the closing quote.
    for (;;) {
      if (k >= limit) return CUT
      const b = load<u8>(IN + k)
      const c = load<u8>(CLS + b)
      if (c == K_ESC) {
        k++
        break
      }
      if (high != 0) return SLOW
      k++
      if (c == K_COPY) {
        store<u8>(OUT + pos, b)
        pos++
      } else if (c == K_SEP) {
        store<u8>(OUT + pos, b)
        pos++
        flags |= F_SEP
      } else if (c == K_END) {
        end = flags == 0 ? pos : quoteCell(cellStart, pos, flags)
        return k
      } else {
        return SLOW
      }
    }
  }
  // The compiler's flow analysis does not see that the loop above only returns.
  return SLOW
}

/** Quotes the cell at [start, pos) if its flags ask for it, doubling its quotes; its new end. */
function quoteCell(start: i32, pos: i32, flags: i32): i32 {
  let quote = (flags & (F_QUOTE | F_CRLF)) != 0
  if (!quote && (flags & F_SEP) != 0) quote = sepLength == 1 || hasSeparator(start, pos)
  if (!quote) return pos
  let quotes = 0
  if ((flags & F_QUOTE) != 0) {
    for (let i = start; i < pos; i++) if (load<u8>(OUT + i) == 34) quotes++
  }
  // Expand in place from the back: the write index never overtakes the read index.
  let w = pos + quotes + 1
  store<u8>(OUT + w--, 34)
  for (let i = pos - 1; i >= start; i--) {
    const b = load<u8>(OUT + i)
    store<u8>(OUT + w--, b)
    if (b == 34) store<u8>(OUT + w--, 34)
  }
  store<u8>(OUT + start, 34)
  return pos + quotes + 2
}

/** Whether the output bytes [from, to) hold the whole (multi-byte) separator. */
function hasSeparator(from: i32, to: i32): bool {
  const last = to - sepLength
  for (let i = from; i <= last; i++) {
    let k = 0
    while (k < sepLength && load<u8>(OUT + i + k) == load<u8>(SEP + k)) k++
    if (k == sepLength) return true
  }
  return false
}

function writeSeparator(pos: i32): i32 {
  if (sepLength == 1) {
    store<u8>(OUT + pos, sep0)
    return pos + 1
  }
  memory.copy(OUT + pos, SEP, sepLength)
  return pos + sepLength
}

function isSpace(b: i32): bool {
  return b == 32 || b == 10 || b == 13 || b == 9
}

/** What a byte after `\` decodes to: a byte, -2 for `u` (4 hex digits follow), -1 if invalid. */
function unescape(b: i32): i32 {
  switch (b) {
    case 34:
    case 92:
    case 47:
      return b
    case 98:
      return 8
    case 102:
      return 12
    case 110:
      return 10
    case 114:
      return 13
    case 116:
      return 9
    case 117:
      return -2
    default:
      return -1
  }
}

function hexValue(b: i32): i32 {
  if (b >= 48 && b <= 57) return b - 48
  const l = b | 32
  if (l >= 97 && l <= 102) return l - 87
  return -1
}
