/**
 * The id a request is known by in the log and in its `X-Request-Id` answer header. Portable.
 * A client's own id is kept when it is safe to echo; otherwise a fresh UUID is made.
 */

/** Longest client id kept; longer ones are replaced, as Hono's request-id middleware does. */
const MAX_CLIENT_ID_LENGTH = 255
const UNSAFE_CHARACTER = /[^\w\-=]/

export function toRequestId(clientId: string | null | undefined): string {
  if (!clientId || clientId.length > MAX_CLIENT_ID_LENGTH || UNSAFE_CHARACTER.test(clientId)) {
    return crypto.randomUUID()
  }
  return clientId
}
