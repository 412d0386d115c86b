/**
 * A RUNNING query's result followed as it is written (`?follow=1`): whole, in the form written at
 * submit, with a download's Content-Type and Content-Disposition but no Content-Length, ETag or
 * ranges. The body ends only on a whole result; otherwise it errors, which resets the connection
 * (Node) or aborts the response (workerd). Portable.
 */
import type { Context } from 'hono'
import type { AppEnv } from './app-env.ts'
import { BadRequestError } from '../errors.ts'
import type { QueryRecord } from '../domain/query.ts'
import type { FollowQuery } from '../queries/followed-result.ts'
import { send, toContentDisposition, type DownloadOptions } from './download.ts'
import { ILLEGAL_PARAMETERS } from './result-form.ts'

/** `follow`: `1` / `true` follow, `0` / `false` (or none) do not; anything else is a 400. */
export function toFollowFlag(text: string | undefined): boolean {
  if (text === undefined) return false
  const flag = text.toLowerCase()
  if (flag === '1' || flag === 'true') return true
  if (flag === '0' || flag === 'false' || flag === '') return false
  throw new BadRequestError(
    { id: 'FOLLOW_FLAG_INVALID', args: [text.slice(0, 100)] },
    { errorCode: ILLEGAL_PARAMETERS },
  )
}

/**
 * A RUNNING query is followed whole and in the form written at submit: a range or a conversion
 * can be served only once the file is whole, so either answers 400.
 */
export function checkFollowable(c: Context<AppEnv>, sameForm: boolean): void {
  if (!sameForm || c.req.header('range') !== undefined) {
    throw new BadRequestError({ id: 'FOLLOW_WHOLE_ONLY' }, { errorCode: ILLEGAL_PARAMETERS })
  }
}

/** Sends the bytes of a RUNNING query, whose download checkFollowable allowed. */
export async function sendFollowedDownload(
  c: Context<AppEnv>,
  record: QueryRecord,
  follow: FollowQuery,
  options: DownloadOptions,
): Promise<Response> {
  const headers: Record<string, string> = {
    'Content-Type': options.contentType,
    'Content-Disposition': toContentDisposition(options.fileName),
    'Accept-Ranges': 'none',
    // Not the file yet: nothing may keep it, and a proxy should pass each piece on at once.
    'Cache-Control': 'private, no-store, no-transform',
    'X-Accel-Buffering': 'no',
  }
  if (c.req.method === 'HEAD') return c.body(null, 200, headers)
  return send(c, await follow(record), 200, headers, options.metrics)
}
