/**
 * The id a request is known by in the log and in its `X-Request-Id` answer header. Portable.
 * A client's own id is kept when it is safe to echo; otherwise a fresh random UUID is made.
 */

/** Longest client id kept; longer ones are replaced, as Hono's request-id middleware does. */
const MAX_CLIENT_ID_LENGTH = 255
const UNSAFE_CHARACTER = /[^\w\-=]/

export function toRequestId(clientId: string | null | undefined): string {
  if (!clientId || clientId.length > MAX_CLIENT_ID_LENGTH || UNSAFE_CHARACTER.test(clientId)) {
    return newRandomUuid()
  }
  return clientId
}

/** Random bytes for this many ids are drawn at once. */
const IDS_PER_DRAW = 256
const random = new Uint8Array(16 * IDS_PER_DRAW)
let used = random.length
const HEX = Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0))

/**
 * A version 4 UUID, as `crypto.randomUUID()` gives, built as one flat string: every status poll
 * without an id of its own makes one, and the randomUUID string, built piece by piece, cost twice
 * as much once the HTTP server had checked it as a header value (bench/polls.bench.ts, profiled).
 */
export function newRandomUuid(): string {
  if (used === random.length) {
    crypto.getRandomValues(random)
    used = 0
  }
  const at = used
  used += 16
  const high = (i: number) => HEX[random[at + i]! >> 4]!
  const low = (i: number) => HEX[random[at + i]! & 15]!
  // Version 4 in the 13th digit, variant 10xx in the 17th (RFC 9562).
  // prettier-ignore
  return String.fromCharCode(
    high(0), low(0), high(1), low(1), high(2), low(2), high(3), low(3), 45,
    high(4), low(4), high(5), low(5), 45,
    HEX[4]!, low(6), high(7), low(7), 45,
    HEX[8 | ((random[at + 8]! >> 4) & 3)]!, low(8), high(9), low(9), 45,
    high(10), low(10), high(11), low(11), high(12), low(12),
    high(13), low(13), high(14), low(14), high(15), low(15),
  )
}
