/**
 * SQL with its whitespace normalised, for recognising the same query typed twice. Portable.
 * Runs of whitespace outside quotes become one space and the ends are trimmed; whatever sits
 * inside '…' (a literal) or "…" (an identifier), doubled quotes included, is kept as written.
 */

/** Whitespace as SQL reads it between tokens. */
const WHITESPACE = /\s/

export function normaliseSqlWhitespace(sql: string): string {
  let out = ''
  let quote: string | null = null
  let pendingSpace = false
  for (let i = 0; i < sql.length; i++) {
    const char = sql[i]!
    if (quote) {
      out += char
      // A doubled quote ('it''s', "a""b") stays inside; the single one closes.
      if (char === quote) {
        if (sql[i + 1] === quote) out += sql[++i]
        else quote = null
      }
      continue
    }
    if (WHITESPACE.test(char)) {
      pendingSpace = out.length > 0
      continue
    }
    if (pendingSpace) out += ' '
    pendingSpace = false
    out += char
    if (char === "'" || char === '"') quote = char
  }
  return out
}
