/**
 * Kylin's success envelope `{"code":"000","data":…,"msg":""}`, sent with the dialect's media type.
 * Portable.
 */
import type { Context } from 'hono'
import type { Dialect } from './dialect.ts'

export function toEnvelope(data: unknown) {
  return { code: '000', data, msg: '' }
}

export function sendEnvelope(c: Context, dialect: Dialect, data: unknown): Response {
  return c.body(JSON.stringify(toEnvelope(data)), 200, {
    'Content-Type': `${dialect.mediaType};charset=UTF-8`,
  })
}
