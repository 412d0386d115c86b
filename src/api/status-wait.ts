/**
 * How long a status call waits for its query to leave RUNNING: `?wait=<seconds>` (0 to 60, else a
 * 400) or RFC 7240's `Prefer: wait=<seconds>` (a larger ask is capped at 60; an unreadable one is
 * ignored, as RFC 7240 says). Portable.
 */
import { BadRequestError } from '../errors.ts'

/** The longest wait a status call is allowed, in seconds. */
export const MAX_WAIT_SECONDS = 60

export interface StatusWait {
  seconds: number
  /** Asked with `Prefer`: the answer then carries `Preference-Applied: wait=<seconds>`. */
  preferred: boolean
}

/** The wait a status call asks for; `undefined` when none. `?wait=` wins over `Prefer`. */
export function toStatusWait(
  query: string | undefined,
  prefer: string | undefined,
): StatusWait | undefined {
  if (query !== undefined) {
    if (!/^\d{1,2}$/.test(query) || Number(query) > MAX_WAIT_SECONDS) {
      throw new BadRequestError({ id: 'WAIT_INVALID' })
    }
    return { seconds: Number(query), preferred: false }
  }
  const asked = prefer === undefined ? undefined : toPreferredWait(prefer)
  if (asked === undefined) return undefined
  return { seconds: Math.min(asked, MAX_WAIT_SECONDS), preferred: true }
}

/** The `wait` preference of a Prefer header: `wait=10`, `respond-async, wait=10`, `WAIT="10"`. */
function toPreferredWait(header: string): number | undefined {
  for (const preference of header.split(',')) {
    const [token = ''] = preference.split(';')
    const match = /^\s*wait\s*=\s*(?:"(\d{1,10})"|(\d{1,10}))\s*$/i.exec(token)
    if (match) return Number(match[1] ?? match[2])
  }
  return undefined
}
