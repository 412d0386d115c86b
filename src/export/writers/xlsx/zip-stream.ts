/**
 * A ZIP written as it goes (fflate's streaming Zip): text entries deflated in ~64 KiB pieces, the
 * bytes taken as fflate emits them; a GatewayError past 4 GiB (no ZIP64). Portable.
 */
import { Zip, ZipDeflate, type DeflateOptions } from 'fflate'
import { GatewayError } from '../../../errors.ts'

/** Deflate level, 0 (stored) to 9 (smallest). */
export type DeflateLevel = NonNullable<DeflateOptions['level']>

export interface ZipStreamOptions {
  level: DeflateLevel
  /** The most bytes an entry or the archive may have; the ZIP format's 32-bit most by default. */
  maxBytes?: number
}

/** An entry being written: text in any pieces, then `close` once. */
export interface ZipEntry {
  write(text: string): void
  close(): void
}

export interface ZipStream {
  /** Adds an entry of small known text, whole. */
  addText(name: string, text: string): void
  /** Opens a deflated entry; the previous one must be closed. */
  open(name: string): ZipEntry
  /** Writes the central directory; after it nothing can be added. */
  end(): void
  /** The archive's bytes emitted since the last call, as one array (empty when none). */
  take(): Uint8Array
}

/** Text is encoded and handed to the compressor once this many characters are pending. */
const CHUNK_CHARS = 64 * 1024
/** A ZIP without the ZIP64 extension counts sizes and offsets in 32 bits. */
const MAX_ZIP_BYTES = 0xffff_ffff
/** A fixed entry time (the DOS epoch), so the same result gives the same bytes. */
const MTIME = new Date(1980, 0, 1)
const EMPTY = new Uint8Array(0)

export function createZipStream(options: ZipStreamOptions): ZipStream {
  const { level, maxBytes = MAX_ZIP_BYTES } = options
  const encoder = new TextEncoder()
  let chunks: Uint8Array[] = []
  let archiveBytes = 0
  let failure: unknown = null
  const zip = new Zip((error, data) => {
    if (error) {
      failure ??= error
      return
    }
    archiveBytes += data.length
    chunks.push(data)
  })
  const rethrow = () => {
    if (failure !== null) throw failure
    if (archiveBytes > maxBytes) throw tooLarge()
  }
  const open = (name: string): ZipEntry => {
    // Deflated even when tiny: a streamed entry has its sizes after its data, and readers such as
    // SheetJS and Java's ZipInputStream cannot find the end of a stored one.
    const file = new ZipDeflate(name, { level })
    file.mtime = MTIME
    zip.add(file)
    rethrow()
    let pending = ''
    let size = 0
    const push = (final: boolean) => {
      const bytes = encoder.encode(pending)
      pending = ''
      size += bytes.length
      if (size > maxBytes) throw tooLarge()
      file.push(bytes, final)
      rethrow()
    }
    return {
      write(text) {
        pending += text
        if (pending.length >= CHUNK_CHARS) push(false)
      },
      close() {
        push(true)
      },
    }
  }
  return {
    addText(name, text) {
      const entry = open(name)
      entry.write(text)
      entry.close()
    },
    open,
    end() {
      zip.end()
      rethrow()
    },
    take() {
      if (chunks.length === 0) return EMPTY
      const taken = chunks
      chunks = []
      return taken.length === 1 ? taken[0]! : concat(taken)
    },
  }
}

function tooLarge(): GatewayError {
  return new GatewayError(422, {
    text:
      'The result cannot be written as xlsx: a workbook part passes 4 GiB, the most a ZIP ' +
      'without ZIP64 holds. Download it as CSV, which has no such limit.',
  })
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const chunk of chunks) length += chunk.length
  const bytes = new Uint8Array(length)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.length
  }
  return bytes
}
