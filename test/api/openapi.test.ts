/**
 * The OpenAPI document as served: a well-formed 3.1 document that describes exactly the routes
 * the app serves, with request schemas taken from the zod schemas that validate requests.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createApp } from '../../src/app.ts'
import { ASYNC_QUERY_PATH, type OpenApiDocument } from '../../src/api/openapi.ts'
import {
  idempotencyKeySchema,
  olderThanPattern,
  olderThanSchema,
  submitSchema,
} from '../../src/api/schemas.ts'
import { ADMIN, makeTestDeps } from '../support/test-deps.ts'

const app = createApp(makeTestDeps())

/**
 * Router patterns that serve a documented path under another shape: the stop route is
 * `/:action/:id` (answering only `stop`) to keep Hono on its fast router.
 */
const ROUTE_ALIASES: Record<string, string> = {
  [`DELETE ${ASYNC_QUERY_PATH}/{action}/{id}`]: `DELETE ${ASYNC_QUERY_PATH}/stop/{id}`,
}

async function fetchDocument(): Promise<OpenApiDocument> {
  const res = await app.request('http://gateway.test/openapi.json')
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
  return (await res.json()) as OpenApiDocument
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

function listOperations(document: OpenApiDocument) {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, operation]) => ({ path, method, operation })),
  )
}

/** Follows one local `$ref` (`#/components/…`). */
function resolve(document: OpenApiDocument, value: unknown): Record<string, unknown> {
  const ref = (value as { $ref?: string }).$ref
  if (!ref) return value as Record<string, unknown>
  let target: unknown = document
  for (const key of ref.replace(/^#\//, '').split('/')) {
    target = (target as Record<string, unknown> | undefined)?.[key]
  }
  expect(target, ref).toBeDefined()
  return resolve(document, target)
}

function collectRefs(value: unknown, refs: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((item) => collectRefs(item, refs))
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string') refs.push(item)
      else collectRefs(item, refs)
    }
  }
  return refs
}

const withoutDialect = (schema: Record<string, unknown>) => {
  const { $schema: _dialect, ...rest } = schema
  return rest
}

/** A parameter carries its description itself, beside the schema. */
const toParameterSchema = (schema: z.ZodType) => {
  const { description: _description, ...rest } = withoutDialect(
    z.toJSONSchema(schema, { io: 'input' }),
  )
  return rest
}

describe('GET /openapi.json', () => {
  it('is served without credentials, as OpenAPI 3.1', async () => {
    const document = await fetchDocument()
    expect(document.openapi).toBe('3.1.0')
    expect(document.info.title).toBeTruthy()
    expect(document.info.version).toBeTruthy()
  })

  it('describes exactly the async query routes the app serves', async () => {
    const document = await fetchDocument()
    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL' && r.path.startsWith(ASYNC_QUERY_PATH))
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
        .map((route) => ROUTE_ALIASES[route] ?? route),
    )
    const documented = new Set(
      listOperations(document)
        // HEAD is answered by every GET route; the document lists it for downloads.
        .filter((op) => op.method !== 'head')
        .map((op) => `${op.method.toUpperCase()} ${op.path}`),
    )
    expect([...documented].sort()).toEqual([...served].sort())
    expect(served.size).toBeGreaterThanOrEqual(11)
  })

  it('reaches a handler on every documented operation, and the stop handler only for stop', async () => {
    for (const { path, method } of listOperations(await fetchDocument())) {
      if (method === 'head') continue
      const url = `http://gateway.test${path.replace('{id}', crypto.randomUUID())}`
      const res = await app.request(url, {
        method: method.toUpperCase(),
        headers: { Authorization: ADMIN, 'Content-Type': 'application/json' },
        body: method === 'post' ? '{"sql":"select 1"}' : undefined,
      })
      // A Kylin envelope from the gateway, neither the passthrough's answer nor "No such API".
      const body = (await res.json()) as { code?: string; msg?: string }
      expect(body.code, `${method} ${path}`).toMatch(/^\d{3}$/)
      expect(body.msg, `${method} ${path}`).not.toMatch(/^No such API/)
    }
    const other = await app.request(
      `http://gateway.test${ASYNC_QUERY_PATH}/halt/${crypto.randomUUID()}`,
      {
        method: 'DELETE',
        headers: { Authorization: ADMIN },
      },
    )
    // Not a stop: it falls through to the passthrough, as any undocumented /kylin/ path does.
    expect(await other.json()).toEqual({ passed: 'through' })
  })

  it('resolves every $ref and declares every path parameter', async () => {
    const document = await fetchDocument()
    for (const ref of collectRefs(document)) resolve(document, { $ref: ref })
    const operationIds = listOperations(document).map((op) => op.operation.operationId)
    expect(new Set(operationIds).size).toBe(operationIds.length)
    for (const { path, method, operation } of listOperations(document)) {
      const parameters = ((operation.parameters ?? []) as unknown[]).map((p) =>
        resolve(document, p),
      )
      for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
        expect(
          parameters.some((p) => p.in === 'path' && p.name === name && p.required === true),
          `${method} ${path} declares {${name}}`,
        ).toBe(true)
      }
      expect(operation.summary, `${method} ${path}`).toBeTruthy()
      expect(operation.responses, `${method} ${path}`).toHaveProperty('default')
    }
  })

  it('takes request schemas from the zod schemas that validate requests', async () => {
    const document = await fetchDocument()
    expect(document.components.schemas.SubmitRequest).toEqual(
      withoutDialect(z.toJSONSchema(submitSchema, { io: 'input' })),
    )
    const submit = document.paths[ASYNC_QUERY_PATH]!.post!
    const body = (submit.requestBody as { content: Record<string, { schema: unknown }> }).content
    expect(resolve(document, body['application/json']!.schema)).toEqual(
      document.components.schemas.SubmitRequest,
    )
    const parameters = submit.parameters as { name: string; in: string; schema: unknown }[]
    const idempotencyKey = parameters.find((p) => p.name === 'Idempotency-Key')
    expect(idempotencyKey?.in).toBe('header')
    expect(idempotencyKey?.schema).toEqual(toParameterSchema(idempotencyKeySchema))
    const deleteAll = document.paths[ASYNC_QUERY_PATH]!.delete!
    const olderThan = (deleteAll.parameters as { name: string; schema: unknown }[]).find(
      (p) => p.name === 'older_than',
    )
    expect(olderThan?.schema).toEqual(toParameterSchema(olderThanSchema))
    expect(olderThan?.schema).toMatchObject({ pattern: olderThanPattern.source })
  })

  it('declares Kylin credentials: HTTP Basic or the JSESSIONID cookie', async () => {
    const document = await fetchDocument()
    expect(document.components.securitySchemes.basicAuth).toMatchObject({
      type: 'http',
      scheme: 'basic',
    })
    expect(document.components.securitySchemes.kylinSession).toMatchObject({
      type: 'apiKey',
      in: 'cookie',
      name: 'JSESSIONID',
    })
    expect(document.security).toEqual([{ basicAuth: [] }, { kylinSession: [] }])
  })

  it('offers every JSON answer under all four dialect media types, legacy or Kylin 5 shaped', async () => {
    const document = await fetchDocument()
    const status = document.paths[`${ASYNC_QUERY_PATH}/{id}/status`]!.get!
    const content = (status.responses as Record<string, { content: Record<string, unknown> }>)[
      '200'
    ]!.content
    expect(content).toEqual({
      'application/json': { schema: { $ref: '#/components/schemas/StatusEnvelope' } },
      'application/vnd.apache.kylin-v2+json': {
        schema: { $ref: '#/components/schemas/StatusEnvelope' },
      },
      'application/vnd.apache.kylin-v4-public+json': {
        schema: { $ref: '#/components/schemas/StatusEnvelopeV4' },
      },
      'application/vnd.apache.kylin-v4+json': {
        schema: { $ref: '#/components/schemas/StatusEnvelopeV4' },
      },
    })
    expect(document.components.schemas.StatusAnswer).toMatchObject({
      required: ['queryID', 'status', 'info'],
    })
    expect(document.components.schemas.StatusAnswerV4).toMatchObject({
      required: ['query_id', 'status', 'info'],
    })
  })

  it('describes ranges, validators and their statuses on both downloads', async () => {
    const document = await fetchDocument()
    for (const segment of ['result', 'result_download']) {
      for (const method of ['get', 'head']) {
        const operation = document.paths[`${ASYNC_QUERY_PATH}/{id}/${segment}`]![method]!
        const names = (operation.parameters as unknown[]).map((p) => resolve(document, p).name)
        expect(names).toEqual(
          expect.arrayContaining(['id', 'project', 'Range', 'If-Range', 'If-None-Match']),
        )
        const responses = operation.responses as Record<string, Record<string, unknown>>
        expect(Object.keys(responses)).toEqual(
          expect.arrayContaining(['200', '206', '304', '404', '416']),
        )
        expect(Object.keys(responses['200']!.headers as object)).toEqual(
          expect.arrayContaining(['ETag', 'Content-Length', 'Accept-Ranges', 'Last-Modified']),
        )
        expect(Object.keys(responses['206']!.headers as object)).toContain('Content-Range')
        expect(Object.keys(resolve(document, responses['416']).headers as object)).toContain(
          'Content-Range',
        )
      }
    }
  })
})
