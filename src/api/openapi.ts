/**
 * The OpenAPI 3.1 document of the async query API, generated from the route declarations
 * (async-query-routes.ts) and the zod schemas they name. Portable; served at /openapi.json.
 */
import { OpenAPIHono, type RouteConfig } from '@hono/zod-openapi'
import { MEDIA_V2, MEDIA_V4, MEDIA_V4_PUBLIC } from './dialect.ts'
import {
  ASYNC_QUERY_HEAD_ROUTES,
  ASYNC_QUERY_PATH,
  ASYNC_QUERY_ROUTES,
} from './async-query-routes.ts'
import { ERROR_RESPONSES, PARAMETERS, toComponentSchemas } from './openapi-components.ts'

export { ASYNC_QUERY_PATH }

type Operation = Record<string, unknown>

export interface OpenApiDocument {
  openapi: '3.1.0'
  info: { title: string; version: string; description: string }
  tags: { name: string; description: string }[]
  security: Record<string, string[]>[]
  paths: Record<string, Record<string, Operation>>
  components: {
    schemas: Record<string, Record<string, unknown>>
    responses: Record<string, unknown>
    parameters: Record<string, unknown>
    securitySchemes: Record<string, unknown>
  }
}

const DESCRIPTION = `The asynchronous query API of Kyligence / Kylin 5 in front of a synchronous
Apache Kylin: submit SQL, poll the status, read metadata and size, download the result (CSV, JSON
or NDJSON), clean up.
Every other request under \`/kylin/\` passes through to Kylin unchanged.

**Credentials** are Kylin's own (HTTP Basic, or Kylin's \`JSESSIONID\` cookie); a result belongs
to its submitter, and admins (\`ROLE_ADMIN\`) may see every result.

**Dialects**: the \`Accept\` header picks the shape of the answers; the paths are the same.

| Accept | shape | id field |
| --- | --- | --- |
| \`application/json\` (or none), \`${MEDIA_V2}\` | legacy | \`queryID\` |
| \`${MEDIA_V4_PUBLIC}\`, \`${MEDIA_V4}\` | Kylin 5 | \`query_id\` |

Answers carry the media type that was matched. Every answer is Kylin's envelope
\`{"code":"000","data":…,"msg":""}\`; every error is \`{"code":"999","data":…,"msg":…}\` with an
honest HTTP status. \`Accept-Language: cn\` answers messages in Chinese.`

const SECURITY_SCHEMES = {
  basicAuth: {
    type: 'http',
    scheme: 'basic',
    description: 'A Kylin user and password, checked against Kylin',
  },
  kylinSession: {
    type: 'apiKey',
    in: 'cookie',
    name: 'JSESSIONID',
    description: 'The session cookie Kylin gave you',
  },
} as const

/** A declared path as clients call it: the routes are mounted under ASYNC_QUERY_PATH. */
const toPublicPath = (path: string) => (path === '/' ? ASYNC_QUERY_PATH : ASYNC_QUERY_PATH + path)

function generateDocument(): OpenApiDocument {
  // The library exposes its generator through an app's registry; this one only describes.
  const { openAPIRegistry: registry, getOpenAPI31Document } = new OpenAPIHono()
  const routes: RouteConfig[] = [...Object.values(ASYNC_QUERY_ROUTES), ...ASYNC_QUERY_HEAD_ROUTES]
  for (const route of routes) registry.registerPath({ ...route, path: toPublicPath(route.path) })
  for (const [name, schema] of Object.entries(toComponentSchemas())) {
    registry.registerComponent('schemas', name, schema)
  }
  for (const [name, response] of Object.entries(ERROR_RESPONSES)) {
    registry.registerComponent('responses', name, response)
  }
  for (const [name, parameter] of Object.entries(PARAMETERS)) {
    registry.registerComponent('parameters', name, parameter)
  }
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) {
    registry.registerComponent('securitySchemes', name, scheme)
  }
  const { openapi, info, tags, security, paths, components } = getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'Kylin async query gateway', version: '1.0.0', description: DESCRIPTION },
    tags: [{ name: 'Async query', description: `Everything under \`${ASYNC_QUERY_PATH}\`` }],
    security: [{ basicAuth: [] }, { kylinSession: [] }],
  })
  // Only what the document has: the generator adds an empty `webhooks`.
  const document = { openapi, info, tags, security, paths, components }
  return removeParameterSchemaDescriptions(document as OpenApiDocument)
}

/**
 * A parameter generated from a zod schema carries the schema's description twice, beside and
 * inside its schema; once, beside it, is how the hand-written parameters say it too.
 */
function removeParameterSchemaDescriptions(document: OpenApiDocument): OpenApiDocument {
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item)) {
      for (const parameter of (operation.parameters ?? []) as Record<string, unknown>[]) {
        const schema = parameter.schema as Record<string, unknown> | undefined
        if (schema?.description && schema.description === parameter.description) {
          delete schema.description
        }
      }
    }
  }
  return document
}

let cached: OpenApiDocument | undefined

/** The document, built once: it depends on nothing but the declarations. */
export function getOpenApiDocument(): OpenApiDocument {
  cached ??= generateDocument()
  return cached
}
