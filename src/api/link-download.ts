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
import type { StoredFileSender } from '../deps.ts'
import { ASYNC_QUERY_ROUTES } from './async-query-routes.ts'
import type { LinkForm, SignedLinks } from './signed-link.ts'
import { sendAskedDownload, toAskedDownload } from './result-download.ts'
import { rejectInvalid } from './validation.ts'

export interface LinkDownloadOptions {
  /** Absent when links are off: every link then answers so. */
  signer?: SignedLinks
  queries: QueryService
  store: BlobStore
  compressDownloads: boolean
  metrics?: GatewayMetrics
  exporter?: Exporter
  sendStoredFile?: StoredFileSender
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
    const asked = toAskedDownload(
      record,
      (name) => form[name as keyof LinkForm],
      c.get('dialect').name,
      record.options.fileName,
      options,
      // A page opened from the file must not pass the link on in a Referer.
      { 'Referrer-Policy': 'no-referrer' },
    )
    return sendAskedDownload(c, record, asked, options)
  }) as never)

  return app
}
