/**
 * One export run to its end, as a consumer sees it: the bytes and the summary, or the failure,
 * which the stream and the summary must report alike; and two runs compared. Portable.
 */
import { expect } from 'vitest'
import { exportResult, type ExportRequest } from '../../src/export/export-result.ts'
import {
  transcodeKylinResult,
  type TranscodeOptions,
} from '../../src/export/kylin-csv/transcode-stream.ts'
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
  return toOutcome(stream, summary)
}

/** `body` cut at `offsets` straight through the fused kernel. */
export async function runTranscode(
  body: Uint8Array,
  offsets: readonly number[],
  options: TranscodeOptions,
): Promise<Outcome> {
  const { csv, summary } = transcodeKylinResult(toSplitStream(body, offsets), options)
  return toOutcome(csv, summary)
}

async function toOutcome(
  stream: ReadableStream<Uint8Array>,
  summary: Promise<ExportSummary>,
): Promise<Outcome> {
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

const decoder = new TextDecoder()

/** The same bytes and summary (however chunked), or the same failure; a diff as text first. */
export function expectSameOutcome(actual: Outcome, expected: Outcome): void {
  if ('error' in expected || 'error' in actual) {
    expect(actual).toEqual(expected)
    return
  }
  const same =
    expected.bytes.length === actual.bytes.length &&
    expected.bytes.every((b, i) => b === actual.bytes[i])
  if (!same) expect(decoder.decode(actual.bytes)).toBe(decoder.decode(expected.bytes))
  if (!same) expect(actual.bytes).toEqual(expected.bytes)
  expect(actual.summary).toEqual(expected.summary)
}
