/**
 * Whether a SQL text orders its result: an `ORDER BY` at the top level, not inside parentheses
 * (subqueries, window functions), quotes, quoted names or comments. Portable.
 */

/** `true` when `sql` has `ORDER BY` outside every parenthesis, string, quoted name and comment. */
export function hasTopLevelOrderBy(sql: string): boolean {
  let depth = 0
  /** The last word read at depth 0, upper-cased; comments and spaces do not reset it. */
  let previousWord = ''
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i]!
    if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(sql, i, c)
      previousWord = ''
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i)
      i = end < 0 ? n : end + 1
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2)
      i = end < 0 ? n : end + 2
    } else if (c === '(') {
      depth++
      i++
      previousWord = ''
    } else if (c === ')') {
      depth = Math.max(0, depth - 1)
      i++
      previousWord = ''
    } else if (isWordChar(c)) {
      let end = i + 1
      while (end < n && isWordChar(sql[end]!)) end++
      const word = sql.slice(i, end).toUpperCase()
      if (depth === 0 && word === 'BY' && previousWord === 'ORDER') return true
      previousWord = depth === 0 ? word : ''
      i = end
    } else {
      if (!/\s/.test(c)) previousWord = ''
      i++
    }
  }
  return false
}

/** Past the closing quote of the literal or name opened at `start`; a doubled quote is one. */
function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2
      else return i + 1
    } else {
      i++
    }
  }
  return sql.length
}

function isWordChar(c: string): boolean {
  const code = c.charCodeAt(0)
  return (
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === 95 ||
    code === 36 ||
    code > 127
  )
}
