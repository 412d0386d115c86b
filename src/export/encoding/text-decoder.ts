/**
 * A streaming decoder of a stored text file in the encoding it was written in: UTF-8 (a BOM is a
 * cell's first character, not a marker to drop) or GBK (@exodus/bytes' WHATWG gbk decoder, with
 * no Buffer). Portable.
 */
import { createMultibyteDecoder } from '@exodus/bytes/multi-byte.js'
import type { ResultEncoding } from '../../domain/query.ts'

/** `decode(chunk, true)` while bytes come, `decode(new Uint8Array(0), false)` at the end. */
export type StreamDecoder = (chunk: Uint8Array, stream: boolean) => string

export function createStreamDecoder(encode: ResultEncoding): StreamDecoder {
  if (encode === 'gbk') {
    // Loose: bytes written as GBK read back; a stray byte becomes U+FFFD, as in UTF-8.
    return createMultibyteDecoder('gbk', true)
  }
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true })
  return (chunk, stream) => decoder.decode(chunk, { stream })
}
