/**
 * GET /openapi.json and the Swagger UI page at GET /docs, both without credentials. Portable:
 * swagger-ui-dist's files come from a source each runtime provides; the core reads no files.
 */
import { Hono } from 'hono'
import type { AppEnv } from './app-env.ts'
import { NotFoundError } from '../errors.ts'
import { getOpenApiDocument } from './openapi.ts'

/** The only files of swagger-ui-dist the page uses; nothing else of the package is served. */
export const DOCS_ASSET_FILES = [
  'swagger-ui.css',
  'swagger-ui-bundle.js',
  'favicon-32x32.png',
] as const
export type DocsAssetFile = (typeof DOCS_ASSET_FILES)[number]

/** Answers one swagger-ui-dist file (with its content type and caching headers) for `request`. */
export type DocsAssetSource = (file: DocsAssetFile, request: Request) => Promise<Response>

export interface ApiDocsOptions {
  /** Without it /docs says where the document is instead of showing the page. */
  assets?: DocsAssetSource
}

/** Same origin only: the page loads nothing from elsewhere, and the browser enforces it. */
const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  // Swagger UI sets style attributes on its elements.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

// Relative URLs, so the page also works behind a proxy that adds a path prefix.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kylin async query gateway · API</title>
<link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
`

const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: new URL('openapi.json', document.baseURI).href,
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  validatorUrl: null,
})
`

const NOTE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Kylin async query gateway · API</title></head>
<body>
<p>This deployment does not serve the browsable API page. The OpenAPI document is at
<a href="openapi.json">/openapi.json</a>; open it in any OpenAPI viewer.</p>
</body>
</html>
`

export function createApiDocsRoutes(options: ApiDocsOptions = {}) {
  const app = new Hono<AppEnv>()
  let document: string | undefined
  const pageHeaders = {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': DOCS_CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
  }

  app.get('/openapi.json', (c) =>
    c.body((document ??= JSON.stringify(getOpenApiDocument())), 200, {
      'Content-Type': 'application/json; charset=utf-8',
      // Public and credential-free, so other origins' OpenAPI tools may load it.
      'Access-Control-Allow-Origin': '*',
      'Cache-Control': 'no-cache',
    }),
  )

  app.get('/docs', (c) => c.body(options.assets ? PAGE : NOTE, 200, pageHeaders))

  app.get('/docs/init.js', (c) => {
    if (!options.assets)
      throw new NotFoundError({ id: 'NOT_FOUND_ROUTE', args: ['GET', c.req.path] })
    return c.body(INIT_SCRIPT, 200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
    })
  })

  app.get('/docs/assets/:file', (c) => {
    const file = c.req.param('file')
    if (!options.assets || !isDocsAssetFile(file)) {
      throw new NotFoundError({ id: 'NOT_FOUND_ROUTE', args: ['GET', c.req.path] })
    }
    return options.assets(file, c.req.raw)
  })

  return app
}

function isDocsAssetFile(name: string): name is DocsAssetFile {
  return (DOCS_ASSET_FILES as readonly string[]).includes(name)
}
