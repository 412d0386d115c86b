/**
 * The Parquet writer: typed columns (column-types.ts) in row groups of a bounded number of rows,
 * each handed on as bytes as soon as it is full, the footer at the end. Portable.
 */
import type { CompressionCodec } from 'hyparquet'
import { ByteWriter, ParquetWriter } from 'hyparquet-writer'
import { GatewayError } from '../../../errors.ts'
import type { Column, ResultWriter, RowBatch } from '../../types.ts'
import { toFieldNames } from '../columnar/column-names.ts'
import {
  createColumnGroups,
  type ColumnGroups,
  type ColumnValues,
} from '../columnar/column-groups.ts'
import { toParquetSchema } from './schema.ts'

export interface ParquetOptions {
  /** Rows per row group, the most the writer holds (a group also ends at 4 Mi units of text). */
  rowGroupSize?: number
  /** Snappy (the default; pure JS, every reader has it) or none. */
  compression?: 'snappy' | 'none'
}

/**
 * A group small enough to die in V8's young generation rather than be promoted and wait for a
 * full collection. 1M rows × 10 columns in one process, source + writer: 2K-row groups peak at
 * +34 MiB of RSS (heap 34 MiB) in 4.7 s, 8K-row groups at +78 MiB (heap 75 MiB) in the same
 * time; the file is ~9 % larger (24 MB against 22 MB).
 */
export const DEFAULT_ROW_GROUP_SIZE = 2_048

const CODECS: Record<NonNullable<ParquetOptions['compression']>, CompressionCodec> = {
  snappy: 'SNAPPY',
  none: 'UNCOMPRESSED',
}

export function createParquetWriter(options: ParquetOptions = {}): ResultWriter {
  const groupSize = options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE
  const codec = CODECS[options.compression ?? 'snappy']
  const bytes = new ByteWriter()
  let parquet: ParquetWriter | undefined
  let groups: ColumnGroups | undefined
  let names: string[] = []
  let groupsWritten = 0

  const write = (values: ColumnValues, rows: number) => {
    const columnData = names.map((name, i) => ({ name, data: values[i]! }))
    encode(() => parquet!.write({ columnData, rowGroupSize: rows }), `row group ${++groupsWritten}`)
  }
  const open = (columns: readonly Column[]) => {
    groups = createColumnGroups(columns, { format: 'Parquet', groupSize }, write)
    names = toFieldNames(columns)
    parquet = new ParquetWriter({
      writer: bytes,
      schema: toParquetSchema(names, groups.types),
      codec,
    })
    return groups
  }
  return {
    start(columns: readonly Column[]) {
      open(columns)
      return take(bytes)
    },
    rows(batch: RowBatch) {
      // A source names its columns first; without them a row has more cells than columns.
      ;(groups ?? open([])).add(batch)
      return take(bytes)
    },
    end() {
      const last = groups ?? open([])
      last.finish()
      encode(() => parquet!.finish(), 'the footer')
      return take(bytes)
    },
  }
}

/** The bytes written since the last take, copied out so the writer's buffer is reused. */
function take(bytes: ByteWriter): Uint8Array {
  const taken = new Uint8Array(bytes.buffer, 0, bytes.index).slice()
  bytes.index = 0
  return taken
}

/**
 * Runs an encoder step. Cells are parsed before they reach the encoder, so it should not fail;
 * if it does, its message is not passed on, as it may quote a value.
 */
function encode(step: () => void | Promise<void>, part: string): void {
  try {
    void step()
  } catch {
    throw new GatewayError(500, {
      text: `The result cannot be written as Parquet: the encoder failed on ${part}.`,
    })
  }
}
