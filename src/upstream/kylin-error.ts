/**
 * Kylin's own error texts, made fit for a status `info`: one line, no Java stack frames; and the
 * Kylin envelope that can arrive where a bare SQLResponse was expected. Portable.
 */

import { GatewayError } from '../errors.ts'
import { toRedactedUrl } from '../redact-url.ts'

/** A Java stack frame, with Jetty's `at` or without it (Tomcat's page). */
const JAVA_STACK_FRAME =
  /\s(?:at\s+)?[\w$]+(?:\.[\w$<>]+)+\((?:[^()\s]+:\d+|Native Method|Unknown Source)\)/

/** The longest failure message kept, in UTF-8 bytes: what a person reads, not a dump. */
export const MAX_MESSAGE_BYTES = 4096

/**
 * A message within `maxBytes` of UTF-8, cut at a character boundary and marked as cut, so a
 * long SQL quoted in Kylin's message cannot bloat every status answer.
 */
export function toCappedMessage(text: string, maxBytes = MAX_MESSAGE_BYTES): string {
  const bytes = new TextEncoder().encode(text)
  if (bytes.length <= maxBytes) return text
  const mark = ` … [message cut: ${bytes.length} bytes in all]`
  let end = Math.max(0, maxBytes - new TextEncoder().encode(mark).length)
  // Back to the first byte of a character: continuation bytes are 10xxxxxx.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--
  return new TextDecoder().decode(bytes.subarray(0, end)) + mark
}

/** Drops newlines as Kylin does when it reads a failure back (lines joined with ""). */
export function toOneLine(text: string): string {
  return text.replace(/\r?\n|\r/g, '')
}

/** The text before the first Java stack frame: from there on it is internals, not advice. */
export function stripStackFrames(text: string): string {
  const frame = JAVA_STACK_FRAME.exec(text)
  return frame ? text.slice(0, frame.index) : text
}

/**
 * Whether a query answer is a Kylin envelope rather than a SQLResponse: a top-level `code` and
 * neither `results` nor `columnMetas`. Kylin 2–4 send `{code:"999",data:null,msg,stacktrace,…}`
 * for errors, Kylin 5 `{code,data,msg}` around everything. A SQLResponse has no `code` in any
 * version and always carries the other two (null at worst), so a real result is never taken for
 * an envelope, whatever the order of its members.
 */
export function isKylinEnvelope(body: Record<string, unknown>): boolean {
  return (
    Object.hasOwn(body, 'code') &&
    !Object.hasOwn(body, 'results') &&
    !Object.hasOwn(body, 'columnMetas')
  )
}

/** What a person reads when an envelope came instead of a result: Kylin's own words if any. */
export function toEnvelopeFailure(body: Record<string, unknown>): string {
  const data = body.data
  // Kylin 5 reports a failed SQL inside a `000` envelope: `data.isException` and its message.
  const nested =
    typeof data === 'object' && data !== null && (data as Record<string, unknown>).isException
      ? (data as Record<string, unknown>).exceptionMessage
      : undefined
  for (const candidate of [body.msg, body.exception, nested]) {
    if (typeof candidate !== 'string') continue
    const text = toOneLine(stripStackFrames(candidate)).trim()
    if (text) return text
  }
  const code = typeof body.code === 'string' ? body.code : JSON.stringify(body.code)
  if (code === '000') {
    return (
      'The upstream Kylin sent an envelope (code "000") instead of a query result, so no result ' +
      'was kept; check that KYLIN_UPSTREAM_URL points at Kylin itself and not at a proxy that ' +
      'rewrites its answers.'
    )
  }
  return `The upstream Kylin answered with error code ${JSON.stringify(code)} and no message; no result was kept. Its log has the details.`
}

/**
 * Every failure a person reads passes here: a GatewayError's own message, else `<subject> failed in
 * the gateway: …`; one line, no stack frames, no URL userinfo, at most MAX_MESSAGE_BYTES.
 */
export function toFailureText(error: unknown, subject: string): string {
  const text =
    error instanceof GatewayError
      ? error.message
      : `${subject} failed in the gateway: ${error instanceof Error ? error.message : String(error)}`
  return toCappedMessage(toRedactedUrl(toOneLine(stripStackFrames(text)).trim()))
}
