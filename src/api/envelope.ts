/**
 * Kylin's success envelope `{"code":"000","data":…,"msg":""}`, sent with the dialect's media type.
 * Portable.
 */
import type { Context } from 'hono'
import type { Dialect } from './dialect.ts'

export function toEnvelope(data: unknown, msg = '') {
  return { code: '000', data, msg }
}

/** `msg` stays empty except where Kylin says something on success (stop). */
export function sendEnvelope(c: Context, dialect: Dialect, data: unknown, msg = ''): Response {
  return c.body(JSON.stringify(toEnvelope(data, msg)), 200, {
    'Content-Type': `${dialect.mediaType};charset=UTF-8`,
  })
}
