/**
 * The xlsx writer: rows of cells → one workbook, streamed. Sheets `query_result`,
 * `query_result_2`, … of at most Excel's 1,048,576 rows each (header repeated); the workbook
 * parts that list them come last. Portable.
 */
import type { Column, ResultWriter, RowBatch } from '../../types.ts'
import {
  CONTENT_TYPES_PATH,
  ROOT_RELS_PATH,
  ROOT_RELS_XML,
  STYLES_PATH,
  toContentTypesXml,
  toSheetPath,
  toWorkbookRelsXml,
  toWorkbookXml,
  WORKBOOK_PATH,
  WORKBOOK_RELS_PATH,
} from './package-parts.ts'
import { createRowXml, SHEET_HEAD, SHEET_TAIL, type RowXml } from './sheet-xml.ts'
import { STYLES_XML } from './styles.ts'
import { createZipStream, type DeflateLevel, type ZipEntry, type ZipStream } from './zip-stream.ts'

export interface XlsxOptions {
  /** A header row of the column labels on every sheet. */
  includeHeader: boolean
  /** Rows a sheet holds, its header included; Excel's most by default. */
  maxSheetRows?: number
  /** Deflate level of the sheets; 1 by default (bench/xlsx.bench.ts). */
  level?: DeflateLevel
}

/** Excel's rows per sheet. */
export const MAX_SHEET_ROWS = 1_048_576
const SHEET_NAME = 'query_result'

export function createXlsxWriter(options: XlsxOptions): ResultWriter {
  const { includeHeader, maxSheetRows = MAX_SHEET_ROWS, level = 1 } = options
  const fewest = includeHeader ? 2 : 1
  if (!Number.isInteger(maxSheetRows) || maxSheetRows < fewest || maxSheetRows > MAX_SHEET_ROWS) {
    throw new TypeError(
      `Rows per xlsx sheet must be an integer from ${fewest} to ${MAX_SHEET_ROWS}.`,
    )
  }
  const zip: ZipStream = createZipStream({ level })
  let rowXml: RowXml | null = null
  let sheet: ZipEntry | null = null
  let sheets = 0
  let sheetRows = 0
  let resultRows = 0

  const openSheet = (xml: RowXml) => {
    sheet = zip.open(toSheetPath(++sheets))
    sheet.write(SHEET_HEAD)
    sheetRows = 0
    if (includeHeader) sheet.write(xml.header(++sheetRows))
    return sheet
  }
  const closeSheet = (entry: ZipEntry) => {
    entry.write(SHEET_TAIL)
    entry.close()
  }
  // A source names its columns before any row; without them, every cell is text.
  const open = (columns: readonly Column[]): RowXml => {
    if (rowXml) return rowXml
    rowXml = createRowXml(columns)
    zip.addText(ROOT_RELS_PATH, ROOT_RELS_XML)
    zip.addText(STYLES_PATH, STYLES_XML)
    openSheet(rowXml)
    return rowXml
  }

  return {
    start(columns) {
      open(columns)
      return zip.take()
    },
    rows(batch: RowBatch) {
      const xml = open([])
      let entry = sheet!
      const { cells, rowEnds } = batch
      let from = 0
      for (let r = 0; r < rowEnds.length; r++) {
        const to = rowEnds[r]!
        if (sheetRows === maxSheetRows) {
          closeSheet(entry)
          entry = openSheet(xml)
        }
        entry.write(xml.row(cells, from, to, ++sheetRows, ++resultRows))
        from = to
      }
      return zip.take()
    },
    end() {
      open([])
      closeSheet(sheet!)
      const names = Array.from({ length: sheets }, (_, i) =>
        i === 0 ? SHEET_NAME : `${SHEET_NAME}_${i + 1}`,
      )
      zip.addText(WORKBOOK_PATH, toWorkbookXml(names))
      zip.addText(WORKBOOK_RELS_PATH, toWorkbookRelsXml(sheets))
      zip.addText(CONTENT_TYPES_PATH, toContentTypesXml(sheets))
      zip.end()
      return zip.take()
    },
  }
}
