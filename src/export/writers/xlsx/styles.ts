/**
 * The workbook's one styles part: the defaults Excel requires, and the date formats date cells
 * point at by their `s` index. Portable.
 */

/** The `s` of a DATE cell: `yyyy-mm-dd`. */
export const DATE_STYLE = 1
/** The `s` of a TIMESTAMP cell: `yyyy-mm-dd hh:mm:ss`. */
export const TIMESTAMP_STYLE = 2
/** The `s` of a TIMESTAMP cell with milliseconds, so they show as Kylin wrote them. */
export const TIMESTAMP_MILLIS_STYLE = 3

const FORMATS = ['yyyy-mm-dd', 'yyyy-mm-dd hh:mm:ss', 'yyyy-mm-dd hh:mm:ss.000']
/** Below 164 the number formats are Excel's built-in ones. */
const FIRST_CUSTOM_FORMAT = 164

const cellFormat = (numFmtId: number, apply: boolean) =>
  `<xf numFmtId="${numFmtId}" fontId="0" fillId="0" borderId="0" xfId="0"` +
  `${apply ? ' applyNumberFormat="1"' : ''}/>`

export const STYLES_XML =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
  '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' +
  `<numFmts count="${FORMATS.length}">` +
  FORMATS.map(
    (code, i) => `<numFmt numFmtId="${FIRST_CUSTOM_FORMAT + i}" formatCode="${code}"/>`,
  ).join('') +
  '</numFmts>' +
  '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>' +
  '<fills count="2"><fill><patternFill patternType="none"/></fill>' +
  '<fill><patternFill patternType="gray125"/></fill></fills>' +
  '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
  `<cellXfs count="${FORMATS.length + 1}">${cellFormat(0, false)}` +
  FORMATS.map((_, i) => cellFormat(FIRST_CUSTOM_FORMAT + i, true)).join('') +
  '</cellXfs>' +
  '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
  '</styleSheet>'
