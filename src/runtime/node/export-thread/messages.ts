/**
 * What the main thread and an export thread say to each other, and how an error crosses between
 * them: a GatewayError keeps its status, message and codes; anything else keeps its message.
 * Node only (worker_threads' structured clone).
 */
import type { ExportRequest } from '../../../export/export-result.ts'
import type { KylinCsvKernel } from '../../../export/kylin-csv/kernel-choice.ts'
import type { ExportSummary } from '../../../export/types.ts'
import { GatewayError, UpstreamError, type Message } from '../../../errors.ts'

/**
 * The size of what crosses between the threads: the body goes to a thread in batches of up to
 * this, the file's bytes come back gathered into buffers of it. One size, so a batch the thread
 * has read fills with output next, and an output buffer the store has written holds the next batch.
 */
export const BATCH_BYTES = 1024 * 1024

/** What a thread is started with. */
export interface ThreadSetup {
  csvKernel: KylinCsvKernel | undefined
}

/** An export's request without its progress callback, which cannot cross threads. */
export type ThreadRequest = Omit<ExportRequest, 'onProgress'>

/**
 * The body's bytes as they come, then its end. `handOn`: once this chunk is read, the thread
 * hands on the output the transform holds back to make fuller chunks. `buffers`: empty ones to
 * gather output in, given back by the consumer where the file outgrows the body (JSON, say).
 */
export type JobInput =
  | { type: 'chunk'; bytes: Uint8Array; handOn?: boolean; buffers?: Uint8Array[] }
  | { type: 'end' }

export type ToThread =
  | { type: 'start'; job: number; request: ThreadRequest }
  | (JobInput & { job: number })
  | { type: 'cancel'; job: number }

export type FromThread =
  /**
   * Output so far, each chunk in a buffer of its own that moves with the message; `ack` when it
   * answers a chunk. `progress` is the latest rows and bytes. `spent`: the chunk it answers,
   * given back for the next one, when the thread keeps enough buffers to gather output in.
   */
  | {
      type: 'out'
      job: number
      chunks: Uint8Array[]
      ack: boolean
      progress: Progress | null
      spent?: Uint8Array
    }
  | {
      type: 'done'
      job: number
      chunks: Uint8Array[]
      progress: Progress | null
      summary: ExportSummary
      /** The SHA-256 of every chunk sent, when the request asked for it. */
      sha256: string | undefined
    }
  | { type: 'failed'; job: number; error: ErrorData }

export type Progress = [rows: number, bytes: number]

export type ErrorData =
  | {
      kind: 'gateway'
      upstream: boolean
      status: GatewayError['status']
      body: Message
      code: string
      errorCode: string | undefined
      data: unknown
      headers: Record<string, string>
      upstreamStatus: number | undefined
    }
  | { kind: 'other'; name: string; message: string }

export function toErrorData(error: unknown): ErrorData {
  if (error instanceof GatewayError) {
    return {
      kind: 'gateway',
      upstream: error instanceof UpstreamError,
      status: error.status,
      body: error.body,
      code: error.code,
      errorCode: error.errorCode,
      data: error.data,
      headers: error.headers,
      upstreamStatus: error instanceof UpstreamError ? error.upstreamStatus : undefined,
    }
  }
  const { name, message } = error instanceof Error ? error : new Error(String(error))
  return { kind: 'other', name, message }
}

export function fromErrorData(data: ErrorData): Error {
  if (data.kind === 'other') {
    const error = new Error(data.message)
    error.name = data.name
    return error
  }
  const options = {
    code: data.code,
    errorCode: data.errorCode,
    data: data.data,
    headers: data.headers,
  }
  if (data.upstream && 'text' in data.body) {
    return new UpstreamError(data.body.text, { ...options, upstreamStatus: data.upstreamStatus })
  }
  return new GatewayError(data.status, data.body, options)
}
