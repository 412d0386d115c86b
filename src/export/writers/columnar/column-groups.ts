/**
 * Rows of cells → typed values column by column, handed on in groups of a bounded number of rows
 * and of text (a Parquet row group, an Arrow record batch), so a writer holds one group at most.
 * Portable.
 */
import { GatewayError } from '../../../errors.ts'
import type { Column, RowBatch } from '../../types.ts'
import { toCellParser, type CellValue, type Refusal } from './cell-values.ts'
import { describeColumnType, toColumnType, type ColumnType } from './column-types.ts'

/** One group: per column, its values in row order (null for a null cell). */
export type ColumnValues = (CellValue | null)[][]

export interface ColumnGroupsOptions {
  /** The format's name, for error messages ("Parquet"). */
  format: string
  /** Rows per group, at least 1. */
  groupSize: number
  /**
   * A group also ends after the row that brings its cells' text to this many UTF-16 units, so
   * wide cells cannot make it large. Default DEFAULT_GROUP_CHARS.
   */
  groupChars?: number
}

/** 4 Mi units: about 4–12 MB of text, far above a group of ordinary rows (bench: ~1 MB). */
export const DEFAULT_GROUP_CHARS = 4 * 1024 * 1024

export interface ColumnGroups {
  readonly types: readonly ColumnType[]
  /** Reads a batch's rows; `onGroup` gets each group as soon as it is full. */
  add(batch: RowBatch): void
  /** Hands on the rows read since the last full group, if any. */
  finish(): void
}

/**
 * Every row must have one cell per column, and every cell must parse as its column's type;
 * anything else throws a GatewayError that names the row and the column, never the cell.
 */
export function createColumnGroups(
  columns: readonly Column[],
  options: ColumnGroupsOptions,
  onGroup: (values: ColumnValues, rows: number) => void,
): ColumnGroups {
  const { format, groupSize, groupChars = DEFAULT_GROUP_CHARS } = options
  if (!Number.isSafeInteger(groupSize) || groupSize < 1) {
    throw new TypeError(`The ${format} group size must be a positive integer.`)
  }
  const types = columns.map(toColumnType)
  const parsers = types.map(toCellParser)
  const width = columns.length
  const empty = (): ColumnValues => columns.map(() => [])
  let values = empty()
  let buffered = 0
  let chars = 0
  let rowsRead = 0

  const fail = (text: string): never => {
    throw new GatewayError(500, { text: `The result cannot be written as ${format}: ${text}.` })
  }
  const refuse = (index: number, refusal: Refusal): never => {
    const column = columns[index]!
    const type = describeColumnType(column, types[index]!)
    return fail(
      `row ${rowsRead}, column ${JSON.stringify(column.label)} (${type}): the value ${refusal.reason}`,
    )
  }
  const emit = () => {
    const full = values
    const rows = buffered
    values = empty()
    buffered = 0
    chars = 0
    onGroup(full, rows)
  }

  return {
    types,
    add({ cells, rowEnds }: RowBatch) {
      let c = 0
      for (let r = 0; r < rowEnds.length; r++) {
        const end = rowEnds[r]!
        rowsRead++
        if (end - c !== width) {
          const count = end - c === 1 ? '1 cell' : `${end - c} cells`
          fail(`row ${rowsRead} has ${count}, not one per column (${width})`)
        }
        for (let i = 0; i < width; i++, c++) {
          const cell = cells[c]
          if (cell === null || cell === undefined) {
            values[i]!.push(null)
            continue
          }
          chars += cell.length
          const value = parsers[i]!(cell)
          if (typeof value === 'object') refuse(i, value)
          else values[i]!.push(value)
        }
        if (++buffered === groupSize || chars >= groupChars) emit()
      }
    },
    finish() {
      if (buffered > 0) emit()
    },
  }
}
