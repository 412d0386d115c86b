/**
 * Typed errors, and the one place that turns any error into a Kylin error envelope.
 * Portable. Handlers throw; only `toErrorResponse` (wired to `app.onError`) builds error bodies.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { translate, type Language, type MessageId } from './i18n.ts'

/** A catalogue message (translated per request) or a literal text (e.g. the upstream's own). */
export type Message = { id: MessageId; args?: (string | number)[] } | { text: string }

export interface GatewayErrorOptions {
  /** The envelope `code`: Kylin's `999` unless Kylin itself answers another (e.g. `401`). */
  code?: string
  /** Kylin 5's `error_code` (`KE-…`), where Kylin has one. */
  errorCode?: string
  /** The envelope `data`; Kylin sends `null`, `0`, `""` or `false` depending on the endpoint. */
  data?: unknown
  headers?: Record<string, string>
  cause?: unknown
}

export class GatewayError extends Error {
  readonly status: ContentfulStatusCode
  readonly body: Message
  readonly code: string
  readonly errorCode: string | undefined
  readonly data: unknown
  readonly headers: Record<string, string>

  constructor(status: ContentfulStatusCode, body: Message, options: GatewayErrorOptions = {}) {
    super('text' in body ? body.text : translate(body.id, 'en', body.args), {
      cause: options.cause,
    })
    this.name = 'GatewayError'
    this.status = status
    this.body = body
    this.code = options.code ?? '999'
    this.errorCode = options.errorCode
    this.data = options.data ?? null
    this.headers = options.headers ?? {}
  }

  localize(lang: Language): string {
    return 'text' in this.body ? this.body.text : translate(this.body.id, lang, this.body.args)
  }
}

export class BadRequestError extends GatewayError {
  constructor(body: Message, options?: GatewayErrorOptions) {
    super(400, body, options)
  }
}

export class UnauthorizedError extends GatewayError {
  constructor(body: Message, options?: GatewayErrorOptions) {
    super(401, body, { headers: { 'WWW-Authenticate': 'Basic realm="Kylin"' }, ...options })
  }
}

export class ForbiddenError extends GatewayError {
  constructor(body: Message, options?: GatewayErrorOptions) {
    super(403, body, options)
  }
}

export class NotFoundError extends GatewayError {
  constructor(body: Message, options?: GatewayErrorOptions) {
    super(404, body, options)
  }
}

/** The upstream Kylin failed or could not be reached; the message says which and why. */
export class UpstreamError extends GatewayError {
  /** The upstream's HTTP status, when it answered at all. */
  readonly upstreamStatus: number | undefined
  constructor(text: string, options: GatewayErrorOptions & { upstreamStatus?: number } = {}) {
    super(502, { text }, options)
    this.name = 'UpstreamError'
    this.upstreamStatus = options.upstreamStatus
  }
}

/** A setting is missing or malformed; start-up stops with this one line. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

export interface ErrorContext {
  lang: Language
  url: string
  requestId: string
}

export interface ErrorReply {
  status: ContentfulStatusCode
  headers: Record<string, string>
  body: Record<string, unknown>
}

/**
 * Any thrown value → Kylin's error envelope `{code, data, msg, exception, url}` (+ `error_code`).
 * Unknown errors become a 500 that names the request id, never a stack trace.
 */
export function toErrorResponse(error: unknown, context: ErrorContext): ErrorReply {
  const known =
    error instanceof GatewayError
      ? error
      : new GatewayError(500, { id: 'INTERNAL', args: [context.requestId] })
  const msg = known.localize(context.lang)
  const body: Record<string, unknown> = {
    code: known.code,
    data: known.data,
    msg,
    exception: msg,
    url: context.url,
  }
  if (known.errorCode) body.error_code = known.errorCode
  return { status: known.status, headers: known.headers, body }
}
