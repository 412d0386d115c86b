/**
 * Just enough XML for the S3 REST API: read the text of simple elements and escape text we send.
 * Portable; a tolerant reader of S3's flat answers, not a general parser (no dependency needed).
 */

/** The decoded text of every `<tag>…</tag>` in `xml`, in document order. */
function readXmlValues(xml: string, tag: string): string[] {
  return readXmlBlocks(xml, tag).map(decodeXmlText)
}

/** The decoded text of the first `<tag>…</tag>`, or `undefined`. */
export function readXmlValue(xml: string, tag: string): string | undefined {
  return readXmlValues(xml, tag)[0]
}

/** The raw inner XML of every `<tag>…</tag>` block, e.g. each `<Contents>` of a listing. */
export function readXmlBlocks(xml: string, tag: string): string[] {
  // Attributes (e.g. xmlns) are tolerated; S3 answers use no namespace prefixes or CDATA.
  const pattern = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g')
  return [...xml.matchAll(pattern)].map((match) => match[1] ?? '')
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
}

function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (entity, name: string) => {
    if (name.startsWith('#x')) return safeFromCodePoint(parseInt(name.slice(2), 16), entity)
    if (name.startsWith('#')) return safeFromCodePoint(parseInt(name.slice(1), 10), entity)
    return NAMED_ENTITIES[name] ?? entity
  })
}

export function escapeXmlText(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&${ENTITY_OF[char]};`)
}

const ENTITY_OF: Record<string, string> = {
  '&': 'amp',
  '<': 'lt',
  '>': 'gt',
  '"': 'quot',
  "'": 'apos',
}

function safeFromCodePoint(codePoint: number, fallback: string): string {
  return codePoint >= 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : fallback
}
