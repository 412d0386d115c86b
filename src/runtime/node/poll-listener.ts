/**
 * Status polls answered from Node's own request, before @hono/node-server makes a web Request and
 * Response of it: the same answers as the app's poll lane (api/status-poll-lane.ts), the same
 * headers in the same order and case, written with `writeHead` and `end` as the library writes
 * them. Anything it does not answer goes on to the app. Node only. Hand-written for the hottest
 * route: without the two web objects and their header checks a poll costs 23.4 instead of 27.4 µs
 * of CPU (bench/polls.bench.ts, side by side; the hello-world 20.5).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { toPollHeaders, type HeaderReader, type PollAnswerer } from '../../api/status-poll-lane.ts'

/** Answers a poll and says true, or says false and leaves the request untouched. */
export type EarlyListener = (request: IncomingMessage, response: ServerResponse) => boolean

const AUTHORIZATION = 'authorization'

export function createPollListener(answer: PollAnswerer): EarlyListener {
  return (request, response) => {
    const url = request.url
    // Origin-form targets only ("/path?query"); any other form is the app's to read.
    if (request.method !== 'GET' || url === undefined || url.charCodeAt(0) !== 0x2f) return false
    const answered = answer('GET', url, 0, toHeaderReader(request))
    if (!answered) return false
    response.writeHead(200, toPollHeaders(answered))
    response.end(answered.body.text)
    return true
  }
}

/**
 * Node's parsed headers read as the web Request's: Node joins repeated values of the headers a
 * poll reads with ", " ("; " for Cookie) as Headers#get does, and trims them as Headers does;
 * only of repeated Authorization headers it keeps the first, so that one is read from the raw
 * lines and joined as the web Request joins it.
 */
function toHeaderReader(request: IncomingMessage): HeaderReader {
  const headers = request.headers
  return {
    get(lowerName) {
      if (lowerName === AUTHORIZATION) return joinRawHeader(request.rawHeaders, lowerName)
      const value = headers[lowerName]
      return typeof value === 'string' ? value : null
    },
  }
}

/** The values of the raw header lines (name, value, name, value, …) named `lowerName`, joined. */
function joinRawHeader(raw: string[], lowerName: string): string | null {
  let joined: string | null = null
  for (let at = 0; at < raw.length; at += 2) {
    const name = raw[at]!
    if (name.length !== lowerName.length || name.toLowerCase() !== lowerName) continue
    joined = joined === null ? raw[at + 1]! : `${joined}, ${raw[at + 1]!}`
  }
  return joined
}
