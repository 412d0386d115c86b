/**
 * Kylin 2–4's error answers: the `999` envelope of ErrorResponse (code, data, msg, stacktrace,
 * exception, url), and the servlet container's 401 page for missing or wrong credentials.
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

const EXCEPTIONS: Partial<Record<number, string>> = {
  400: 'org.apache.kylin.rest.exception.BadRequestException',
  403: 'org.apache.kylin.rest.exception.ForbiddenException',
  404: 'org.apache.kylin.rest.exception.NotFoundException',
  500: 'org.apache.kylin.rest.exception.InternalErrorException',
}

export interface KylinErrorBody {
  code: '999'
  data: null
  msg: string
  stacktrace: string
  exception: string
  url: string
}

export function toKylinErrorBody(status: number, message: string, url: string): KylinErrorBody {
  const exception = EXCEPTIONS[status] ?? EXCEPTIONS[500]!
  return {
    code: '999',
    data: null,
    msg: message,
    stacktrace: `${exception}: ${message}`,
    exception: message,
    url,
  }
}

export function sendKylinError(c: Context, status: ContentfulStatusCode, message: string) {
  return c.json(toKylinErrorBody(status, message, c.req.url), status)
}

export function sendUnauthorized(c: Context) {
  return c.html(
    '<!doctype html><html lang="en"><head><title>HTTP Status 401 – Unauthorized</title></head>' +
      '<body><h1>HTTP Status 401 – Unauthorized</h1></body></html>',
    401,
  )
}
