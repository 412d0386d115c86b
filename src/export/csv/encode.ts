/**
 * Kylin 5's async CSV rules (ResultPlan.encodeCell): UTF-8, `\n` after every row, any separator,
 * null → empty, quote a cell holding the separator, `\r`, `\n` or `"`, double inner quotes.
 * Portable. This is the reference encoder; the streaming transcoder must match it byte for byte.
 */

export type Cell = string | number | boolean | null | undefined

export function encodeCsvCell(value: Cell, separator: string): string {
  if (value === null || value === undefined) return ''
  const text = typeof value === 'string' ? value : String(value)
  const hasQuote = text.includes('"')
  if (hasQuote || text.includes(separator) || text.includes('\r') || text.includes('\n')) {
    return `"${hasQuote ? text.replaceAll('"', '""') : text}"`
  }
  return text
}

/** One data row, terminated by `\n`. */
export function encodeCsvRow(cells: readonly Cell[], separator: string): string {
  let line = ''
  for (let i = 0; i < cells.length; i++) {
    if (i > 0) line += separator
    line += encodeCsvCell(cells[i], separator)
  }
  return line + '\n'
}

/** The header row: names joined by the separator and, as in Kylin 5, not escaped. */
export function encodeCsvHeader(names: readonly string[], separator: string): string {
  return names.join(separator) + '\n'
}
