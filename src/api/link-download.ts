/**
 * Downloads by signed link: the one route that answers without credentials, mounted in front of
 * the async routes' authentication (app.ts). The link's signature stands for its owner's leave;
 * the download itself is the owner's. Portable.
 */
import { OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { AppEnv } from './app-env.ts'
import { GatewayError } from '../errors.ts'
import type { Exporter } from '../export/export-result.ts'
import type { GatewayMetrics } from '../ops/metrics.ts'
import type { QueryService } from '../queries/query-service.ts'
import type { BlobStore } from '../store/types.ts'
import { ASYNC_QUERY_ROUTES } from './async-query-routes.ts'
import { sendConvertedDownload } from './converted-download.ts'
import { sendDownload } from './download.ts'
import { isSameForm, toAskedForm, toStoredForm } from './result-form.ts'
import { toResultType } from './result-type.ts'
import type { LinkForm, SignedLinks } from './signed-link.ts'
import { rejectInvalid } from './validation.ts'

export interface LinkDownloadOptions {
  /** Absent when links are off: every link then answers so. */
  signer?: SignedLinks
  queries: QueryService
  store: BlobStore
  compressDownloads: boolean
  metrics?: GatewayMetrics
  exporter?: Exporter
}

export function createLinkDownloadRoutes(options: LinkDownloadOptions) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: rejectInvalid })
  const route = ASYNC_QUERY_ROUTES.linkDownload

  // A download answers a Response of its own media type, which the typed answers cannot express.
  app.openapi(route, (async (c: Context<AppEnv>) => {
    if (!options.signer) throw new GatewayError(501, { id: 'LINKS_OFF' })
    const { id, form } = await options.signer.check({
      id: c.req.param('id') ?? '',
      expires: c.req.param('expires') ?? '',
      signature: c.req.param('signature') ?? '',
      search: new URL(c.req.url).searchParams,
    })
    const record = await options.queries.findSuccessfulById(id)
    const stored = toStoredForm(record.options)
    const asked = toAskedForm((name) => form[name as keyof LinkForm], stored)
    const { contentType, extension } = toResultType(
      asked.format,
      c.get('dialect').name,
      asked.encode,
    )
    const download = {
      compress: options.compressDownloads,
      metrics: options.metrics,
      contentType,
      fileName: `${record.options.fileName}.${extension}`,
    }
    const answer = isSameForm(asked, stored)
      ? await sendDownload(c, options.store, record, download)
      : await sendConvertedDownload(c, options.store, record, asked, download, options.exporter)
    // A page opened from the file must not pass the link on in a Referer.
    answer.headers.set('Referrer-Policy', 'no-referrer')
    return answer
  }) as never)

  return app
}
