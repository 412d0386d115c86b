/**
 * The package parts around the sheets: content types, relationships and the workbook that lists
 * the sheets by name. Written last, once the number of sheets is known. Portable.
 */

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
const RELATIONSHIPS = 'http://schemas.openxmlformats.org/package/2006/relationships'
const OFFICE_RELATIONSHIPS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships'
const SPREADSHEET_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml'

export const ROOT_RELS_PATH = '_rels/.rels'
export const STYLES_PATH = 'xl/styles.xml'
export const WORKBOOK_PATH = 'xl/workbook.xml'
export const WORKBOOK_RELS_PATH = 'xl/_rels/workbook.xml.rels'
export const CONTENT_TYPES_PATH = '[Content_Types].xml'

/** The part of sheet `n` (1-based). */
export const toSheetPath = (n: number) => `xl/worksheets/sheet${n}.xml`

export const ROOT_RELS_XML =
  `${XML_HEAD}<Relationships xmlns="${RELATIONSHIPS}">` +
  `<Relationship Id="rId1" Type="${OFFICE_RELATIONSHIPS}/officeDocument" Target="${WORKBOOK_PATH}"/>` +
  '</Relationships>'

/** The workbook of the named sheets, in order; names are plain ASCII (`query_result_2`). */
export function toWorkbookXml(sheetNames: readonly string[]): string {
  const sheets = sheetNames
    .map((name, i) => `<sheet name="${name}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`)
    .join('')
  return (
    `${XML_HEAD}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
    `xmlns:r="${OFFICE_RELATIONSHIPS}"><bookViews><workbookView/></bookViews>` +
    `<sheets>${sheets}</sheets></workbook>`
  )
}

/** The workbook's links to its sheets (`rId1` … `rId<count>`) and to the styles. */
export function toWorkbookRelsXml(sheetCount: number): string {
  let links = ''
  for (let n = 1; n <= sheetCount; n++) {
    links +=
      `<Relationship Id="rId${n}" Type="${OFFICE_RELATIONSHIPS}/worksheet" ` +
      `Target="worksheets/sheet${n}.xml"/>`
  }
  links += `<Relationship Id="rId${sheetCount + 1}" Type="${OFFICE_RELATIONSHIPS}/styles" Target="styles.xml"/>`
  return `${XML_HEAD}<Relationships xmlns="${RELATIONSHIPS}">${links}</Relationships>`
}

export function toContentTypesXml(sheetCount: number): string {
  let overrides =
    `<Override PartName="/${WORKBOOK_PATH}" ContentType="${SPREADSHEET_TYPE}.sheet.main+xml"/>` +
    `<Override PartName="/${STYLES_PATH}" ContentType="${SPREADSHEET_TYPE}.styles+xml"/>`
  for (let n = 1; n <= sheetCount; n++) {
    overrides += `<Override PartName="/${toSheetPath(n)}" ContentType="${SPREADSHEET_TYPE}.worksheet+xml"/>`
  }
  return (
    `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
    '<Default Extension="xml" ContentType="application/xml"/>' +
    `${overrides}</Types>`
  )
}
