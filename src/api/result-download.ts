/**
 * A result in the form a download asks for: the asked form and its download headers, then the
 * stored file as written or converted on the fly. Shared by the async routes' downloads and the
 * signed-link download. Portable.
 */
import type { Context } from 'hono'
import type { AppEnv } from './app-env.ts'
import type { Dialect } from './dialect.ts'
import type { QueryRecord } from '../domain/query.ts'
import type { Exporter } from '../export/export-result.ts'
import type { GatewayMetrics } from '../ops/metrics.ts'
import type { BlobStore } from '../store/types.ts'
import type { StoredFileSender } from '../deps.ts'
import { sendConvertedDownload } from './converted-download.ts'
import { sendDownload, type DownloadOptions } from './download.ts'
import { isSameForm, toAskedForm, toStoredForm, type ResultForm } from './result-form.ts'
import { toResultType } from './result-type.ts'

export interface ResultDownloadSettings {
  store: BlobStore
  compressDownloads: boolean
  metrics?: GatewayMetrics
  exporter?: Exporter
  /** Sends a stored file as written where the runtime can (Node with the fs store). */
  sendStoredFile?: StoredFileSender
}

export interface AskedDownload {
  form: ResultForm
  /** Whether the form asked is the one written at submit (no conversion). */
  sameForm: boolean
  download: DownloadOptions
}

/** The form `ask` names (query parameters, or a link's signed ones) and its headers. */
export function toAskedDownload(
  record: QueryRecord,
  ask: (name: string) => string | undefined,
  dialect: Dialect['name'],
  fileName: string,
  settings: Pick<ResultDownloadSettings, 'compressDownloads' | 'metrics' | 'sendStoredFile'>,
  headers?: Record<string, string>,
): AskedDownload {
  const stored = toStoredForm(record.options)
  const form = toAskedForm(ask, stored)
  const { contentType, extension } = toResultType(form.format, dialect, form.encode)
  return {
    form,
    sameForm: isSameForm(form, stored),
    download: {
      compress: settings.compressDownloads,
      metrics: settings.metrics,
      contentType,
      fileName: `${fileName}.${extension}`,
      headers,
      sendStoredFile: settings.sendStoredFile,
    },
  }
}

/** A finished result: the stored file as written, or made into the asked form on the fly. */
export function sendAskedDownload(
  c: Context<AppEnv>,
  record: QueryRecord,
  asked: AskedDownload,
  settings: ResultDownloadSettings,
): Promise<Response> {
  return asked.sameForm
    ? sendDownload(c, settings.store, record, asked.download)
    : sendConvertedDownload(
        c,
        settings.store,
        record,
        asked.form,
        asked.download,
        settings.exporter,
      )
}
