/**
 * A streaming GBK decoder for stored files (@exodus/bytes' WHATWG gbk decoder, with no Buffer),
 * in a module of its own so its tables load only when a GBK file is read. Portable.
 */
import { createMultibyteDecoder } from '@exodus/bytes/multi-byte.js'

/** A text-decoder.ts StreamDecoder: `decode(chunk, true)` while bytes come, then the end. */
export function createGbkDecoder(): (chunk: Uint8Array, stream: boolean) => string {
  // Loose: bytes written as GBK read back; a stray byte becomes U+FFFD, as in UTF-8.
  return createMultibyteDecoder('gbk', true)
}
