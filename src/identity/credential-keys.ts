/**
 * The identity cache's key of a caller's credentials (a SHA-256 of their text), remembered for the
 * last few credentials seen, so that a status poll repeating its headers skips the hash. Portable.
 */
import type { Credentials } from '../domain/caller.ts'

/** Credentials remembered at most; past it the oldest is forgotten (a poller keeps its own fresh). */
const MAX_REMEMBERED = 256
/**
 * Longer texts are hashed every time and never kept, so the memo holds at most
 * 2 × MAX_REMEMBERED × MAX_TEXT_LENGTH characters of credentials, whatever callers send.
 */
const MAX_TEXT_LENGTH = 4096

export type CredentialKeys = (credentials: Credentials) => string

/** What is hashed: both headers, so that a changed cookie is another caller. */
export function toCredentialText(credentials: Credentials): string {
  return `${credentials.authorization ?? ''}\n${credentials.cookie ?? ''}`
}

/**
 * `hashText` of the credentials' text, memoised by the exact header values: a changed header is
 * another entry with its own hash, so no caller ever meets a key computed for someone else's
 * credentials. The values are held only here, never logged or copied elsewhere. A hash cost more
 * than the rest of a poll's own work (bench/polls.bench.ts, profiled), hence the memo; a poll with
 * an Authorization header alone is looked up by that value as it came, without building the text.
 */
export function createCredentialKeys(hashText: (text: string) => string): CredentialKeys {
  const byAuthorization = createMemo()
  const byText = createMemo()
  return (credentials) => {
    const { authorization, cookie } = credentials
    if (authorization !== undefined && cookie === undefined) {
      return byAuthorization(authorization, () => hashText(toCredentialText(credentials)))
    }
    const text = toCredentialText(credentials)
    return byText(text, () => hashText(text))
  }
}

function createMemo(): (value: string, hash: () => string) => string {
  const keys = new Map<string, string>()
  return (value, hash) => {
    const known = keys.get(value)
    if (known !== undefined) return known
    const key = hash()
    if (value.length > MAX_TEXT_LENGTH) return key
    if (keys.size >= MAX_REMEMBERED) keys.delete(keys.keys().next().value!)
    keys.set(value, key)
    return key
  }
}
