/**
 * The query list's cursor: an opaque text for a place in the list (a submit time and an id),
 * base64url so clients pass it as it is. Portable. Only a query id comes back out of one.
 */
import { isQueryId } from '../domain/query-id.ts'
import { BadRequestError } from '../errors.ts'
import type { ListPosition } from '../registry/types.ts'

export function toCursor(position: ListPosition): string {
  return btoa(`${position.createdAt}.${position.id}`)
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

/** The place a cursor names; a 400 for anything this list did not give out. */
export function fromCursor(cursor: string): ListPosition {
  let text = ''
  try {
    text = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'))
  } catch {
    // Not base64: refused below.
  }
  const match = /^(\d{1,15})\.(.+)$/.exec(text)
  if (!match || !isQueryId(match[2]!)) throw new BadRequestError({ id: 'LIST_CURSOR_INVALID' })
  return { createdAt: Number(match[1]), id: match[2]! }
}
