/**
 * The BlobStore contract every result store implements (memory, fs, later R2 and S3).
 * Portable: Web streams only. A missing key is `null`, never a throw.
 */

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number
  end: number
}

export interface BlobInfo {
  /** Total size of the stored blob in bytes. */
  size: number
}

export interface BlobObject extends BlobInfo {
  /** The requested bytes: the whole blob, or only the range asked for. */
  body: ReadableStream<Uint8Array>
}

export interface PutOptions {
  /** Aborting stops the write; nothing of it stays visible. */
  signal?: AbortSignal
  /**
   * Called with each chunk of the body once the store will read it no more (its bytes written
   * or copied), where the driver says so (`BlobStore#givesBack`), so its producer may reuse it.
   */
  giveBack?: (chunk: Uint8Array) => void
}

export interface BlobStore {
  /** Driver name, e.g. `memory` or `fs`. */
  readonly name: string
  /** Whether `put` calls `PutOptions.giveBack` (a driver that keeps no chunk once written). */
  readonly givesBack?: boolean
  /**
   * Streams `body` into `key`. The blob becomes visible only when the stream has ended cleanly;
   * if the stream errors or `signal` aborts, the write is discarded and the promise rejects.
   */
  put(key: string, body: ReadableStream<Uint8Array>, options?: PutOptions): Promise<BlobInfo>
  /** Reads a blob as a stream (optionally a range of it), or `null` when it does not exist. */
  get(key: string, range?: ByteRange): Promise<BlobObject | null>
  /** Size of a blob, or `null` when it does not exist. */
  head(key: string): Promise<BlobInfo | null>
  /** Removes a blob; removing a missing key is not an error. */
  delete(key: string): Promise<void>
  /** Every complete key in the store (partial writes are never listed). */
  list(): AsyncIterable<string>
  /** Where the blob lives, as a URL a person can act on (`file:///…`, `memory://…`). */
  locate(key: string): string
  /**
   * Checks the store would take a write, for readiness, without keeping anything or pushing a
   * result out. Without it, readiness writes and deletes a small probe blob.
   */
  probe?(signal?: AbortSignal): Promise<void>
}

/** Keys are flat names: letters, digits, `.`, `_`, `-`; no separators, no `..`. */
const KEY_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/

export function isValidKey(key: string): boolean {
  return KEY_PATTERN.test(key) && !key.includes('..')
}
