/**
 * A separator as the bytes it is written as: lone surrogates become U+FFFD (as TextEncoder
 * writes them), a BOM stays. Portable.
 */

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { ignoreBOM: true })

export function toWellFormed(text: string): string {
  return decoder.decode(encoder.encode(text))
}
