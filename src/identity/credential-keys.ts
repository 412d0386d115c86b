/**
 * The identity cache's key of a credential text (its SHA-256), remembered for the last few texts
 * seen, so that a status poll repeating its Authorization header skips the hash. Portable.
 */

/** Texts remembered at most; past it the oldest is forgotten (a poller keeps its own fresh). */
const MAX_TEXTS = 256
/**
 * Longer texts are hashed every time and never kept, so the memo holds at most
 * MAX_TEXTS × MAX_TEXT_LENGTH characters of credentials, whatever callers send.
 */
const MAX_TEXT_LENGTH = 4096

export type CredentialKeys = (text: string) => string

/**
 * `hashText` memoised by the exact text: a changed header is another text and gets its own hash,
 * so no caller ever meets a key computed for someone else's credentials. The texts are held only
 * here, never logged or copied elsewhere. A hash costs more than the rest of a poll's own work
 * (measured with bench/polls.bench.ts), hence the memo.
 */
export function createCredentialKeys(hashText: (text: string) => string): CredentialKeys {
  const keys = new Map<string, string>()
  return (text) => {
    const known = keys.get(text)
    if (known !== undefined) return known
    const key = hashText(text)
    if (text.length > MAX_TEXT_LENGTH) return key
    if (keys.size >= MAX_TEXTS) keys.delete(keys.keys().next().value!)
    keys.set(text, key)
    return key
  }
}
