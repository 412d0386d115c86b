/**
 * Takes any user:password out of the URLs in a text, for logs and health answers. Portable.
 */

/** `http://user:secret@host/x` → `http://[redacted]@host/x`, wherever URLs appear in `text`. */
export function toRedactedUrl(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi, '$1[redacted]@')
}
