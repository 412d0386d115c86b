/**
 * BlobStore on a local directory: one file per key, written to a hidden temp file and renamed.
 * Node-only (node:fs). One store, in one process, owns its directory (see the partial sweep).
 */
import { randomUUID } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pathToFileURL } from 'node:url'
import { BufferPool } from '../buffer-pool.ts'
import type { BlobInfo, BlobObject, BlobStore, ByteRange, PutOptions } from './types.ts'
import { isValidKey } from './types.ts'
import { assertKey, discard, messageOf, readChunks, toDriverError } from './streams.ts'

export interface FsStoreOptions {
  /** Directory holding the blobs; created (recursively) on first use. */
  dir: string
}

/** A stored blob opened for reading: the handle, and the size of that very file. */
export interface OpenedBlob {
  handle: FileHandle
  size: number
}

/** The fs store, with what only Node can use: the open file itself (Node's download path). */
export interface FsStore extends BlobStore {
  /** The blob's file opened for reading, or `null` when it does not exist; the caller closes it. */
  open(key: string): Promise<OpenedBlob | null>
}

const DRIVER = 'fs'

const driverError = (action: string, key: string, cause: unknown) =>
  toDriverError(DRIVER, action, key, cause)
const PARTIAL_SUFFIX = '.partial'
/** Small chunks are gathered up to this size so a row-sized stream does not cost a syscall each. */
const WRITE_BATCH_BYTES = 1024 * 1024
/**
 * A batch of at most this many chunks (64 KiB or more on average, as the CSV kernel writes them)
 * goes out as they are, in one writev(2); more, smaller ones are first joined into one buffer,
 * cheaper than a syscall entry per few bytes.
 */
const MAX_WRITEV_PARTS = 16
/** Batch buffers kept between puts: a few exports at once reuse theirs. */
const batches = new BufferPool(WRITE_BATCH_BYTES, 4)
const READ_CHUNK_BYTES = 1024 * 1024

export function createFsStore(options: FsStoreOptions): FsStore {
  const dir = resolve(options.dir)
  let preparing: Promise<void> | undefined

  /**
   * First use creates the directory and deletes `.*.partial` files left by a crash mid-put: they
   * are never listed, but would fill the disk. This is why a directory must have one owner: the
   * sweep would also delete a live write of another store sharing it. Memoised; a failure is not,
   * so a transient error (e.g. a mount not ready yet) does not break the store for good.
   */
  function ready(): Promise<void> {
    preparing ??= prepareDir(dir).catch((err: unknown) => {
      preparing = undefined
      throw err
    })
    return preparing
  }

  function pathOf(key: string): string {
    assertKey(key)
    return join(dir, key)
  }

  async function openBlob(key: string): Promise<OpenedBlob | null> {
    const path = pathOf(key)
    await ready()
    let handle: FileHandle
    try {
      handle = await open(path, 'r')
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return null
      throw driverError('open', key, err)
    }
    try {
      // Stat the open handle, not the path: an overwrite renames a new file in, and this size
      // must describe the very file (inode) we are about to stream.
      const info = await handle.stat()
      if (!info.isFile()) {
        await handle.close()
        return null
      }
      return { handle, size: info.size }
    } catch (err) {
      await handle.close().catch(() => {})
      throw driverError('stat', key, err)
    }
  }

  return {
    name: DRIVER,
    givesBack: true,

    async put(key: string, body: ReadableStream<Uint8Array>, putOptions?: PutOptions) {
      const signal = putOptions?.signal
      let finalPath: string
      let tempPath: string
      let handle: FileHandle
      try {
        finalPath = pathOf(key)
        // Dot-prefixed, so never a valid key (no collision, never listed); the UUID keeps
        // concurrent puts of one key apart. 1 + 200 (longest key) + 1 + 36 + 8 < NAME_MAX 255.
        tempPath = join(dir, `.${key}.${randomUUID()}${PARTIAL_SUFFIX}`)
        signal?.throwIfAborted()
        await ready()
        signal?.throwIfAborted()
        // Opened up front ('wx': never clobber), so the file exists before any byte is read and
        // the cleanup below can never race its creation.
        handle = await open(tempPath, 'wx').catch((err: unknown) => {
          throw driverError('creating a temp file', key, err)
        })
      } catch (err) {
        discard(body, err)
        throw err
      }

      let closed = false
      try {
        const chunks = readChunks(body, signal, DRIVER)
        const size = await writeChunks(handle, chunks, key, putOptions?.giveBack)
        closed = true
        await handle.close().catch((err: unknown) => {
          throw driverError('close', key, err)
        })
        signal?.throwIfAborted()
        // rename(2) is atomic within one filesystem, and the temp file sits in the same directory:
        // readers see the old blob or the new one, never a torn write.
        await rename(tempPath, finalPath).catch((err: unknown) => {
          throw driverError('rename', key, err)
        })
        return { size }
      } catch (err) {
        if (!closed) await handle.close().catch(() => {})
        await rm(tempPath, { force: true }).catch(() => {})
        throw err
      }
    },

    open: openBlob,

    async get(key: string, range?: ByteRange): Promise<BlobObject | null> {
      const opened = await openBlob(key)
      if (!opened) return null
      const { handle, size } = opened
      const start = Math.max(0, range?.start ?? 0)
      const end = Math.min(range?.end ?? size - 1, size - 1)
      if (end < start) {
        // createReadStream rejects start > end; an empty blob still has an (empty) body.
        await handle.close().catch(() => {})
        return { size, body: new ReadableStream<Uint8Array>({ start: (c) => c.close() }) }
      }
      // Streams with backpressure (toWeb pauses the file stream while the web queue is full);
      // autoClose releases the handle at the end, on error and on cancel.
      // 1 MiB reads: a download costs a syscall and a socket write per chunk, so fewer is faster.
      const fileStream = handle.createReadStream({ start, end, highWaterMark: READ_CHUNK_BYTES })
      return { size, body: Readable.toWeb(fileStream) as ReadableStream<Uint8Array> }
    },

    async head(key: string): Promise<BlobInfo | null> {
      const path = pathOf(key)
      await ready()
      try {
        const info = await stat(path)
        return info.isFile() ? { size: info.size } : null
      } catch (err) {
        if (hasCode(err, 'ENOENT')) return null
        throw driverError('stat', key, err)
      }
    },

    async delete(key: string): Promise<void> {
      const path = pathOf(key)
      await ready()
      try {
        await unlink(path)
      } catch (err) {
        if (!hasCode(err, 'ENOENT')) throw driverError('unlink', key, err)
      }
    },

    async *list(): AsyncIterable<string> {
      await ready()
      const entries = await readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
        throw new Error(`[${DRIVER}] readdir failed for ${dir}: ${messageOf(err)}`, { cause: err })
      })
      for (const entry of entries) {
        // Temp files start with a dot, which isValidKey refuses; so do strays that are not keys.
        if (entry.isFile() && isValidKey(entry.name)) yield entry.name
      }
    },

    locate(key: string): string {
      return pathToFileURL(pathOf(key)).href
    },
  }
}

async function prepareDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true })
  } catch (err) {
    throw new Error(`[${DRIVER}] cannot create directory ${dir}: ${messageOf(err)}`, { cause: err })
  }
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    throw new Error(`[${DRIVER}] readdir failed for ${dir}: ${messageOf(err)}`, { cause: err })
  }
  // Best effort: a leftover that cannot be removed is still never listed, so it must not make
  // the whole store unusable.
  await Promise.all(
    names
      .filter((name) => name.startsWith('.') && name.endsWith(PARTIAL_SUFFIX))
      .map((name) => rm(join(dir, name), { force: true }).catch(() => {})),
  )
}

/**
 * Writes every chunk to `handle` in 1 MiB batches, with one batch on disk while the next fills:
 * reading the body (which drives the transcoder) overlaps the previous write, and waiting for
 * that write before the next one is the backpressure. Chunks are held by reference until a batch
 * is full; a few large ones are then written as they are (writev), many small ones joined into
 * one buffer allocated on first need: a small body (a record file, a short result) is written as
 * it came, so a thousand submits at once hold kilobytes, not a thousand 1 MiB buffers.
 */
async function writeChunks(
  handle: FileHandle,
  chunks: AsyncIterable<Uint8Array>,
  key: string,
  giveBack: ((chunk: Uint8Array) => void) | undefined,
): Promise<number> {
  let joined: Uint8Array | undefined
  let parts: Uint8Array[] = []
  let filled = 0
  let size = 0
  let pending: Promise<void> | undefined
  const write = async (data: Uint8Array[]) => {
    try {
      await writeAll(handle, data)
    } catch (err) {
      throw driverError('write', key, err)
    }
  }
  const submit = async (data: Uint8Array[]) => {
    const started = write(data)
    // Observed here so a failure is never unhandled; it is rethrown by the next await.
    started.catch(() => {})
    pending = started
  }
  const flushBatch = async () => {
    // The previous write must be done before `joined` is reused for the next batch.
    if (pending) await pending
    if (parts.length <= MAX_WRITEV_PARTS) {
      const written = parts
      await submit(written)
      // Written from the chunks themselves: given back once the write is done, not before.
      if (giveBack)
        pending!.then(
          () => {
            for (const part of written) giveBack(part)
          },
          () => {},
        )
    } else {
      joined ??= batches.take()
      let offset = 0
      for (const part of parts) {
        joined.set(part, offset)
        offset += part.byteLength
        giveBack?.(part)
      }
      await submit([joined.subarray(0, filled)])
    }
    parts = []
    filled = 0
  }
  try {
    for await (const chunk of chunks) {
      size += chunk.byteLength
      if (filled > 0 && filled + chunk.byteLength > WRITE_BATCH_BYTES) await flushBatch()
      // Streams hand chunks over: the producer does not reuse them, so holding them is safe.
      parts.push(chunk)
      filled += chunk.byteLength
      if (filled >= WRITE_BATCH_BYTES) await flushBatch()
    }
    if (filled > 0) await flushBatch()
  } finally {
    // Never leave a write running against a handle the caller is about to close.
    await pending?.catch(() => {})
    // No write holds it any more: the next put fills it again.
    if (joined) batches.give(joined)
  }
  await pending
  return size
}

/**
 * FileHandle#write and #writev may write less than asked (as write(2) and writev(2) may); loop
 * until all of it is out.
 */
export async function writeAll(handle: FileHandle, data: Uint8Array[]): Promise<void> {
  let left = data.filter((part) => part.byteLength > 0)
  while (left.length > 0) {
    const { bytesWritten } =
      left.length === 1
        ? await handle.write(left[0]!, 0, left[0]!.byteLength)
        : await handle.writev(left)
    if (bytesWritten <= 0) throw new Error('no progress writing to the file')
    left = afterWritten(left, bytesWritten)
  }
}

/** What is left of `parts` once their first `written` bytes are out. */
function afterWritten(parts: Uint8Array[], written: number): Uint8Array[] {
  let at = 0
  while (at < parts.length && written >= parts[at]!.byteLength) written -= parts[at++]!.byteLength
  const left = parts.slice(at)
  if (written > 0) left[0] = left[0]!.subarray(written)
  return left
}

function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code
}
