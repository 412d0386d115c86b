/** Rows of cells → typed column values in groups of a fixed row count, failing by row and column. */
import { describe, expect, it } from 'vitest'
import { toColumns } from '../../../../src/export/columns.ts'
import {
  createColumnGroups,
  type ColumnValues,
} from '../../../../src/export/writers/columnar/column-groups.ts'
import { GatewayError } from '../../../../src/errors.ts'
import type { Cell } from '../../../../src/export/types.ts'

const columns = toColumns([
  { label: 'ID', columnTypeName: 'BIGINT' },
  { label: 'NAME', columnTypeName: 'VARCHAR' },
])
const toBatch = (rows: Cell[][]) => {
  let end = 0
  return { cells: rows.flat(), rowEnds: rows.map((row) => (end += row.length)) }
}

describe('export/writers/columnar/column-groups', () => {
  it('hands on full groups as they fill, the rest at the finish', () => {
    const groups: [ColumnValues, number][] = []
    const reader = createColumnGroups(columns, { format: 'Test', groupSize: 2 }, (v, n) =>
      groups.push([v, n]),
    )
    reader.add(toBatch([['1', 'a']]))
    expect(groups).toEqual([])
    reader.add(
      toBatch([
        [null, 'b'],
        ['3', null],
        ['4', 'd'],
      ]),
    )
    expect(groups).toEqual([
      [
        [
          [1n, null],
          ['a', 'b'],
        ],
        2,
      ],
      [
        [
          [3n, 4n],
          [null, 'd'],
        ],
        2,
      ],
    ])
    reader.finish()
    expect(groups).toHaveLength(2)
    reader.add(toBatch([['5', 'e']]))
    reader.finish()
    expect(groups[2]).toEqual([[[5n], ['e']], 1])
  })

  it('ends a group early when its text reaches groupChars', () => {
    const sizes: number[] = []
    const reader = createColumnGroups(
      columns,
      { format: 'Test', groupSize: 100, groupChars: 10 },
      (_, rows) => sizes.push(rows),
    )
    reader.add(
      toBatch([
        ['1', 'abcd'],
        ['2', 'efgh'],
        ['3', 'x'.repeat(20)],
        ['4', null],
      ]),
    )
    reader.finish()
    // 5 + 5 units: the second row ends the group; the third is over on its own.
    expect(sizes).toEqual([2, 1, 1])
  })

  it('names the row, the column and the problem, never the cell', () => {
    const reader = createColumnGroups(columns, { format: 'Test', groupSize: 10 }, () => {})
    reader.add(toBatch([['1', 'a']]))
    const error = (() => {
      try {
        reader.add(
          toBatch([
            ['2', 'b'],
            ['secret-9z', 'c'],
          ]),
        )
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(GatewayError)
    expect((error as GatewayError).message).toBe(
      'The result cannot be written as Test: row 3, column "ID" (BIGINT): the value is not an integer.',
    )
    expect((error as GatewayError).message).not.toContain('secret')
  })

  it('refuses a row without one cell per column', () => {
    const reader = createColumnGroups(columns, { format: 'Test', groupSize: 10 }, () => {})
    expect(() => reader.add(toBatch([['1', 'a', 'x']]))).toThrow(
      'The result cannot be written as Test: row 1 has 3 cells, not one per column (2).',
    )
    expect(() =>
      createColumnGroups(columns, { format: 'Test', groupSize: 10 }, () => {}).add(
        toBatch([['1']]),
      ),
    ).toThrow('row 1 has 1 cell, not one per column (2)')
  })

  it('refuses a group size that is not a positive integer', () => {
    for (const groupSize of [0, -1, 1.5, NaN]) {
      expect(() => createColumnGroups(columns, { format: 'Test', groupSize }, () => {})).toThrow(
        TypeError,
      )
    }
  })
})
