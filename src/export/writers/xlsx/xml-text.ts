/**
 * Cell text as SpreadsheetML text, nothing lost: `& < > "` as entities, CR as `&#13;`; what XML 1.0
 * forbids (controls, lone surrogates, U+FFFE/U+FFFF) as Excel's `_xHHHH_`, and a literal
 * `_xHHHH_` with its `_` as `_x005F_`. Portable.
 */

const SPECIAL =
  /[&<>"\u0000-\u0008\u000b-\u001f\ufffe\uffff]|_(?=[xX][0-9A-Fa-f]{4}_)|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const SPECIALS = new RegExp(SPECIAL.source, 'g')

/** The text as the content of a `<t>` element; Excel and other readers give back `text`. */
export function toXmlText(text: string): string {
  return SPECIAL.test(text) ? text.replace(SPECIALS, toEscape) : text
}

/** Whether a `<t>` of the text needs `xml:space="preserve"` to keep its outer white space. */
export function hasOuterSpace(text: string): boolean {
  return (
    text.length > 0 && (isSpace(text.charCodeAt(0)) || isSpace(text.charCodeAt(text.length - 1)))
  )
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13
}

function toEscape(char: string): string {
  switch (char) {
    case '&':
      return '&amp;'
    case '<':
      return '&lt;'
    case '>':
      return '&gt;'
    case '"':
      return '&quot;'
    case '\r':
      // Legal XML, but a raw CR reads back as LF; the reference keeps it (exceljs reads it too).
      return '&#13;'
    default:
      // No XML 1.0 document may hold these, even as references: Excel's escape, which it decodes.
      return `_x${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`
  }
}
