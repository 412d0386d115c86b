/**
 * The served OpenAPI document against the app's own route table (`app.routes`): every route the
 * app serves is described, and the document describes nothing the app does not serve.
 */
import type { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { createGateway } from '../../src/app.ts'
import type { AppEnv } from '../../src/api/app-env.ts'
import type { OpenApiDocument } from '../../src/api/openapi.ts'
import { makeTestDeps } from '../support/test-deps.ts'

/** Served, and rightly not in the document: probes for orchestrators, and the docs themselves. */
const UNDOCUMENTED = [
  'GET /healthz',
  'GET /readyz',
  'GET /openapi.json',
  'GET /docs',
  'GET /docs/init.js',
  'GET /docs/assets/:file',
  // The web console: a page for people and its two files, like /docs not part of the API.
  'GET /console',
  'GET /console/app.js',
  'GET /console/app.css',
]

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

function createDocumentedApp() {
  return createGateway(makeTestDeps(), {
    docsAssets: async () => new Response('asset'),
  }).app
}

async function fetchDocument(app: Hono<AppEnv>): Promise<OpenApiDocument> {
  const res = await app.request('http://gateway.test/openapi.json')
  expect(res.status).toBe(200)
  return (await res.json()) as OpenApiDocument
}

/**
 * `METHOD pattern` of every handler in the route table. Middleware and the pass-through to Kylin
 * are registered for ALL methods; they answer for no operation of their own.
 */
function listServedRoutes(app: Hono<AppEnv>): string[] {
  const routes = app.routes
    .filter((route) => route.method !== 'ALL')
    .map((route) => `${route.method} ${route.path}`)
  return [...new Set(routes)]
}

/** `METHOD path` of every documented operation but HEAD, which Hono answers with the GET route. */
function listDocumentedOperations(document: OpenApiDocument): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => HTTP_METHODS.includes(method) && method !== 'head')
      .map((method) => `${method.toUpperCase()} ${path}`),
  )
}

/**
 * Whether a router pattern answers a documented operation: the same method, and segment by
 * segment, a `{param}` meets a `:param` (any value reaches the handler) and a literal meets the
 * same literal or a `:param` (the stop route is routed as `/:action/:id`, see async-query.ts).
 */
function serves(route: string, operation: string): boolean {
  const [routeMethod, routePath = ''] = route.split(' ')
  const [operationMethod, operationPath = ''] = operation.split(' ')
  const routeSegments = routePath.split('/')
  const operationSegments = operationPath.split('/')
  return (
    routeMethod === operationMethod &&
    routeSegments.length === operationSegments.length &&
    routeSegments.every((segment, i) => {
      const documented = operationSegments[i]!
      if (segment.startsWith(':')) return true
      return !documented.startsWith('{') && segment === documented
    })
  )
}

function compare(app: Hono<AppEnv>, document: OpenApiDocument) {
  const served = listServedRoutes(app)
  const documented = listDocumentedOperations(document)
  return {
    undocumented: served.filter((route) => !documented.some((op) => serves(route, op))),
    unserved: documented.filter((op) => !served.some((route) => serves(route, op))),
    ambiguous: documented.filter((op) => served.filter((route) => serves(route, op)).length > 1),
  }
}

describe('the OpenAPI document and the route table', () => {
  it('describes every route the app serves, and nothing it does not', async () => {
    const app = createDocumentedApp()
    const document = await fetchDocument(app)
    const { undocumented, unserved, ambiguous } = compare(app, document)
    expect(undocumented.sort()).toEqual([...UNDOCUMENTED].sort())
    expect(unserved).toEqual([])
    expect(ambiguous).toEqual([])
    expect(listDocumentedOperations(document).length).toBeGreaterThanOrEqual(11)
  })

  it('describes HEAD only where the GET it stands for is described', async () => {
    const document = await fetchDocument(createDocumentedApp())
    for (const [path, item] of Object.entries(document.paths)) {
      if ('head' in item) expect(item, path).toHaveProperty('get')
    }
  })

  it('notices a route served without a declaration, and a declaration nothing serves', async () => {
    const app = createDocumentedApp()
    // Before the first request: Hono builds its router then and takes no routes after.
    app.get('/kylin/api/async_query/:id/preview', (c) => c.text('preview'))
    const document = await fetchDocument(app)
    document.paths['/kylin/api/async_query/{id}/sample'] = { get: {} }
    const { undocumented, unserved } = compare(app, document)
    expect(undocumented).toContain('GET /kylin/api/async_query/:id/preview')
    expect(unserved).toEqual(['GET /kylin/api/async_query/{id}/sample'])
  })
})
