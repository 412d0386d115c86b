/**
 * Kylin SQL → the SQL DuckDB runs: Kylin 2–4's own massaging (trailing `;` dropped, request
 * limit/offset appended when the SQL has none), and the `DEFAULT` database quoted for DuckDB.
 */

export interface KylinSqlOptions {
  /** Kylin's request `limit`: appended when > 0 and the SQL says no `limit` of its own. */
  limit?: number
  offset?: number
}

/** Kylin answers only queries: SELECT or WITH, after comments and parentheses. */
export function isSelectStatement(sql: string): boolean {
  const start = stripLeadingComments(sql).replace(/^[\s(]+/, '')
  return /^(select|with)\b/i.test(start)
}

export function toEngineSql(sql: string, options: KylinSqlOptions = {}): string {
  let text = sql.trim().replace(/[\s;]+$/, '')
  text = quoteDefaultDatabase(text)
  // As Kylin's QueryUtil.massageSql: a plain substring test, not a parse.
  const lower = text.toLowerCase()
  if (options.limit && options.limit > 0 && !lower.includes('limit')) {
    text += `\nLIMIT ${Math.trunc(options.limit)}`
  }
  if (options.offset && options.offset > 0 && !lower.includes('offset')) {
    text += `\nOFFSET ${Math.trunc(options.offset)}`
  }
  return text
}

/**
 * Kylin's sample lives in the Hive database DEFAULT, which users write unquoted
 * (`DEFAULT.KYLIN_SALES`); to DuckDB `DEFAULT` is a keyword, so it is quoted wherever it is
 * followed by a dot, outside strings, quoted names and comments.
 */
export function quoteDefaultDatabase(sql: string): string {
  let out = ''
  let i = 0
  while (i < sql.length) {
    const ch = sql[i]!
    const next = sql[i + 1]
    if (ch === "'" || ch === '"') {
      const end = findClosingQuote(sql, i, ch)
      out += sql.slice(i, end)
      i = end
    } else if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i)
      const stop = end === -1 ? sql.length : end
      out += sql.slice(i, stop)
      i = stop
    } else if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2)
      const stop = end === -1 ? sql.length : end + 2
      out += sql.slice(i, stop)
      i = stop
    } else if (/[A-Za-z_]/.test(ch)) {
      const word = /^[A-Za-z0-9_$]+/.exec(sql.slice(i))![0]
      const after = /^\s*\./.test(sql.slice(i + word.length))
      out += word.toUpperCase() === 'DEFAULT' && after ? '"DEFAULT"' : word
      i += word.length
    } else {
      out += ch
      i++
    }
  }
  return out
}

/** The index just past the quote closing the one at `start` (a doubled quote is an escape). */
function findClosingQuote(sql: string, start: number, quote: string): number {
  let i = start + 1
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2
      else return i + 1
    } else i++
  }
  return sql.length
}

function stripLeadingComments(sql: string): string {
  let text = sql.trimStart()
  for (;;) {
    if (text.startsWith('--')) {
      const end = text.indexOf('\n')
      text = end === -1 ? '' : text.slice(end + 1).trimStart()
    } else if (text.startsWith('/*')) {
      const end = text.indexOf('*/')
      text = end === -1 ? '' : text.slice(end + 2).trimStart()
    } else return text
  }
}
