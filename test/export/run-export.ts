/**
 * One export run to its end, as a consumer sees it: the bytes and the summary, or the failure,
 * which the stream and the summary must report alike. Portable.
 */
import { expect } from 'vitest'
import { exportResult, type ExportRequest } from '../../src/export/export-result.ts'
import type { ExportSummary } from '../../src/export/types.ts'
import { readAll, toSplitStream } from './support.ts'

export type Outcome =
  | { bytes: Uint8Array; summary: ExportSummary; chunks: number }
  | { error: string; kind: string }

/** `body` cut at `offsets` through `request` (a Kylin JSON body unless it names a source). */
export async function runExport(
  body: Uint8Array,
  offsets: readonly number[],
  request: Omit<ExportRequest, 'source'> & Partial<Pick<ExportRequest, 'source'>>,
): Promise<Outcome> {
  const { stream, summary } = exportResult(toSplitStream(body, offsets), {
    source: { kind: 'kylin-json' },
    ...request,
  })
  const [read, result] = await Promise.allSettled([readAll(stream), summary])
  if (read.status === 'rejected') {
    expect(result.status).toBe('rejected')
    if (result.status === 'rejected') expect(result.reason).toBe(read.reason)
    const error = read.reason as Error
    return { error: error.message, kind: error.constructor.name }
  }
  if (result.status === 'rejected') throw new Error('the stream ended but the summary failed')
  return { bytes: read.value.bytes, summary: result.value, chunks: read.value.chunks.length }
}
