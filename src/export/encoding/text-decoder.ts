/**
 * A streaming decoder of a stored text file in the encoding it was written in: UTF-8 (a BOM is a
 * cell's first character, not a marker to drop) or GBK (gbk-decoder.ts, loaded only when a GBK
 * file is read). Portable.
 */
import type { ResultEncoding } from '../../domain/query.ts'

/** `decode(chunk, true)` while bytes come, `decode(new Uint8Array(0), false)` at the end. */
export type StreamDecoder = (chunk: Uint8Array, stream: boolean) => string

export function createUtf8Decoder(): StreamDecoder {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true })
  return (chunk, stream) => decoder.decode(chunk, { stream })
}

/** The decoder of `encode`, its code loaded first where it is not yet. */
export async function loadStreamDecoder(encode: ResultEncoding): Promise<StreamDecoder> {
  if (encode === 'gbk') return (await import('./gbk-decoder.ts')).createGbkDecoder()
  return createUtf8Decoder()
}
