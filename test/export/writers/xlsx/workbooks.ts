/**
 * The xlsx tests' writing and reading: the writer fed in any batch split, and its workbook read
 * back by two independent readers, SheetJS and exceljs. Node (exceljs wants a Buffer).
 */
import ExcelJS from 'exceljs'
import * as XLSX from 'xlsx'
import type { Cell, Column } from '../../../../src/export/types.ts'
import { createXlsxWriter, type XlsxOptions } from '../../../../src/export/writers/xlsx/writer.ts'
import { concat } from '../../support.ts'

export type Rows = readonly (readonly Cell[])[]

/** The writer's output, one array per call: start, each batch of `batchSizes` rows (cycled), end. */
export function writeParts(
  columns: readonly Column[] | null,
  rows: Rows,
  options: XlsxOptions,
  batchSizes: readonly number[] = [Math.max(1, rows.length)],
): Uint8Array[] {
  const writer = createXlsxWriter(options)
  const parts = columns ? [writer.start(columns)] : []
  for (let i = 0, b = 0; i < rows.length; b++) {
    const batch = rows.slice(i, i + Math.max(1, batchSizes[b % batchSizes.length] ?? 1))
    let end = 0
    parts.push(writer.rows({ cells: batch.flat(), rowEnds: batch.map((r) => (end += r.length)) }))
    i += batch.length
  }
  parts.push(writer.end())
  return parts
}

export function writeXlsx(
  columns: readonly Column[] | null,
  rows: Rows,
  options: XlsxOptions,
  batchSizes?: readonly number[],
): Uint8Array {
  return concat(writeParts(columns, rows, options, batchSizes))
}

/**
 * A workbook as SheetJS reads it, raw: numbers stay serials, `w` is the formatted text. SheetJS
 * reads a copy: it adds its read position and methods to the array it is given.
 */
export function readSheetJs(bytes: Uint8Array): XLSX.WorkBook {
  return XLSX.read(bytes.slice(), {
    type: 'array',
    cellDates: false,
    cellNF: true,
    bookFiles: true,
  })
}

/** One SheetJS sheet as rows of values (no cell → null), from A1. */
export function toSheetJsRows(workbook: XLSX.WorkBook, name: string): unknown[][] {
  const sheet = workbook.Sheets[name]
  if (!sheet) throw new Error(`no sheet ${name}`)
  return XLSX.utils.sheet_to_json<unknown[]>(sheet, { header: 1, raw: true, defval: null })
}

/** One SheetJS cell by its reference, or undefined when the sheet has none there. */
export function sheetJsCell(workbook: XLSX.WorkBook, name: string, ref: string) {
  return workbook.Sheets[name]?.[ref] as XLSX.CellObject | undefined
}

export interface ExcelJsSheet {
  name: string
  /** Rows from 1, cells from column A; an absent cell is null. */
  rows: unknown[][]
  /** The number format of each cell, in the same places. */
  formats: (string | null)[][]
}

/** Every sheet as exceljs reads it, in workbook order. */
export async function readExcelJs(bytes: Uint8Array): Promise<ExcelJsSheet[]> {
  const workbook = new ExcelJS.Workbook()
  await workbook.xlsx.load(Buffer.from(bytes) as unknown as ExcelJS.Buffer)
  return workbook.worksheets.map((sheet) => {
    const rows: unknown[][] = []
    const formats: (string | null)[][] = []
    sheet.eachRow({ includeEmpty: true }, (row, number) => {
      const values: unknown[] = []
      const numFmts: (string | null)[] = []
      row.eachCell({ includeEmpty: false }, (cell, column) => {
        values[column - 1] = cell.value
        numFmts[column - 1] = cell.numFmt ?? null
      })
      rows[number - 1] = Array.from(values, (v) => v ?? null)
      formats[number - 1] = Array.from(numFmts, (f) => f ?? null)
    })
    return { name: sheet.name, rows: Array.from(rows, (r) => r ?? []), formats }
  })
}
