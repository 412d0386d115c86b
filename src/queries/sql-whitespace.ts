/**
 * SQL with its whitespace normalised, for recognising the same query typed twice. Portable.
 * Runs of whitespace outside quotes and comments become one space and the ends are trimmed;
 * whatever sits inside '…' (a literal), "…" or `…` (identifiers), doubled quotes included, and
 * inside a comment is kept as written. A line comment keeps the line break that ends it, as one
 * `\n`: without it the comment would swallow the next line, and two queries that mean different
 * things would share a key.
 */

/** Whitespace as SQL reads it between tokens. */
const WHITESPACE = /\s/
const QUOTES = new Set(["'", '"', '`'])
const LINE_BREAKS = new Set(['\n', '\r'])

export function normaliseSqlWhitespace(sql: string): string {
  let out = ''
  let separator: '' | ' ' | '\n' = ''
  let i = 0
  const copyUntil = (end: (at: number) => boolean) => {
    const start = i
    while (i < sql.length && !end(i)) i++
    out += sql.slice(start, i)
  }
  while (i < sql.length) {
    const char = sql[i]!
    if (WHITESPACE.test(char)) {
      // A line comment's own line break outranks the space of the run it starts.
      if (out.length > 0 && separator !== '\n') separator = ' '
      i++
      continue
    }
    out += separator
    separator = ''
    if (QUOTES.has(char)) {
      out += char
      i++
      // A doubled quote ('it''s', "a""b") stays inside; the single one closes.
      for (;;) {
        copyUntil((at) => sql[at] === char)
        if (i >= sql.length) break
        out += char
        i++
        if (sql[i] !== char) break
        out += char
        i++
      }
    } else if (sql.startsWith('--', i)) {
      copyUntil((at) => LINE_BREAKS.has(sql[at]!))
      if (i < sql.length) separator = '\n'
    } else if (sql.startsWith('/*', i)) {
      const close = sql.indexOf('*/', i + 2)
      const end = close < 0 ? sql.length : close + 2
      out += sql.slice(i, end)
      i = end
    } else {
      out += char
      i++
    }
  }
  return out
}
