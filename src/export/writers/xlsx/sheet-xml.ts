/**
 * A worksheet's XML, row by row: the part's head and tail, and each row's cells typed by their
 * columns (cell-xml.ts), null cells left out. Fails on what Excel cannot hold. Portable.
 */
import { GatewayError } from '../../../errors.ts'
import type { Cell, Column } from '../../types.ts'
import { toCellKind, toCellXml, toTextCellXml, type CellKind } from './cell-xml.ts'

export const SHEET_HEAD =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
  '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
export const SHEET_TAIL = '</sheetData></worksheet>'

/** Excel's limits: characters in a cell, columns in a sheet (XFD). */
export const MAX_CELL_CHARS = 32_767
export const MAX_COLUMNS = 16_384

export interface RowXml {
  /** The header row: the labels as text. */
  header(sheetRow: number): string
  /**
   * Row `cells[from..to)` as row `sheetRow` of its sheet; `resultRow` (1-based, without the
   * header) names it when a cell does not fit.
   */
  row(cells: readonly Cell[], from: number, to: number, sheetRow: number, resultRow: number): string
}

export function createRowXml(columns: readonly Column[]): RowXml {
  const kinds: CellKind[] = columns.map(toCellKind)
  const labels = columns.map((c) => c.label)
  // `<c r="B` per column, so a cell's element starts with one concatenation of its row number.
  const opens: string[] = []
  const openAt = (index: number) => {
    while (opens.length <= index) opens.push(`<c r="${toColumnName(opens.length)}`)
    return opens[index]!
  }
  const check = (text: string, index: number, where: string) => {
    if (text.length <= MAX_CELL_CHARS) return
    const label = labels[index] ?? `column ${index + 1}`
    throw new GatewayError(422, {
      text:
        `The result cannot be written as xlsx: ${where}, column "${label}", holds ` +
        `${text.length} characters and an Excel cell at most ${MAX_CELL_CHARS}. ` +
        'Download it as CSV, which has no such limit.',
    })
  }
  const checkWidth = (count: number, where: string) => {
    if (count <= MAX_COLUMNS) return
    throw new GatewayError(422, {
      text:
        `The result cannot be written as xlsx: ${where} has ${count} cells and an Excel sheet ` +
        `at most ${MAX_COLUMNS} columns. Download it as CSV, which has no such limit.`,
    })
  }
  return {
    header(sheetRow) {
      checkWidth(labels.length, 'the header')
      let xml = `<row r="${sheetRow}">`
      for (let i = 0; i < labels.length; i++) {
        const label = labels[i]!
        check(label, i, 'the header')
        xml += toTextCellXml(label, `${openAt(i)}${sheetRow}"`)
      }
      return `${xml}</row>`
    },
    row(cells, from, to, sheetRow, resultRow) {
      checkWidth(to - from, `row ${resultRow} of the result`)
      let xml = `<row r="${sheetRow}">`
      for (let c = from, i = 0; c < to; c++, i++) {
        const cell = cells[c]
        if (cell === null || cell === undefined) continue
        check(cell, i, `row ${resultRow} of the result`)
        xml += toCellXml(cell, kinds[i] ?? 'string', `${openAt(i)}${sheetRow}"`)
      }
      return `${xml}</row>`
    },
  }
}

/** A column's letters: 0 → A, 25 → Z, 26 → AA, 16383 → XFD. */
function toColumnName(index: number): string {
  let name = ''
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    name = String.fromCharCode(65 + ((n - 1) % 26)) + name
  }
  return name
}
