/**
 * A short plain-text view of an upstream error page (HTML or text) for a status message.
 * Portable. Own entity decoding: `entities` would add ~30 KB (minified) to the Worker for this.
 */
import { stripStackFrames } from './kylin-error.ts'

const MAX_EXCERPT_CHARS = 200

/** A short plain-text view of an error page: markup, scripts and runs of whitespace gone. */
export function toExcerpt(text: string): string {
  let plain = text
  if (/<[a-z!/][^>]*>/i.test(plain)) {
    const withoutHead = plain.replace(/<head[\s>][\s\S]*?<\/head>/gi, ' ')
    plain = (stripTags(withoutHead).trim() ? withoutHead : plain).replace(
      /<(script|style)[\s>][\s\S]*?<\/\1>/gi,
      ' ',
    )
    plain = decodeEntities(stripTags(plain))
  }
  plain = plain.replace(/\s+/g, ' ').trim()
  // From the first Java stack frame on it is noise, and internals do not belong in a status.
  plain = stripStackFrames(plain).trim()
  return plain.length > MAX_EXCERPT_CHARS ? `${plain.slice(0, MAX_EXCERPT_CHARS - 1)}…` : plain
}

function stripTags(html: string): string {
  return html.replace(/<!--[\s\S]*?-->/g, ' ').replace(/<[^>]*>/g, ' ')
}

function decodeEntities(text: string): string {
  const named: Record<string, string> = {
    amp: '&',
    lt: '<',
    gt: '>',
    quot: '"',
    apos: "'",
    nbsp: ' ',
    ndash: '–',
    mdash: '—',
  }
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
    if (name[0] === '#') {
      const code =
        name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : Number(name.slice(1))
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff
        ? String.fromCodePoint(code)
        : entity
    }
    return named[name.toLowerCase()] ?? entity
  })
}
