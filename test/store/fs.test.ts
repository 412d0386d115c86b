/** The fs BlobStore: the contract plus files on disk, temp files, crash leftovers. Node-only. */
import type { FileHandle } from 'node:fs/promises'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createFsStore, writeAll } from '../../src/store/fs.ts'
import type { BlobStore } from '../../src/store/types.ts'
import {
  controlledStream,
  describeStoreContract,
  failingStreamOf,
  listKeys,
  makeBytes,
  readBytes,
  settle,
  splitBytes,
  streamOf,
} from './contract.ts'

const makeTempDir = () => mkdtemp(join(tmpdir(), 'kylin-gateway-fs-store-'))

describeStoreContract('fs', async () => {
  const dir = await makeTempDir()
  return {
    store: createFsStore({ dir }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
})

describe('fs store', () => {
  let root: string
  let dir: string
  let store: BlobStore

  beforeEach(async () => {
    root = await makeTempDir()
    dir = join(root, 'blobs')
    store = createFsStore({ dir })
  })

  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('is named fs and creates a missing (nested) directory on first use', async () => {
    const nested = createFsStore({ dir: join(root, 'a', 'b', 'c') })
    expect(nested.name).toBe('fs')
    expect(await listKeys(nested)).toEqual([])
    expect(await readdir(join(root, 'a', 'b'))).toEqual(['c'])
  })

  it('writes each blob as a file named by its key', async () => {
    const bytes = makeBytes(70_000, 4)
    await store.put('q-1.csv', streamOf(splitBytes(bytes, [999])))
    expect(await readdir(dir)).toEqual(['q-1.csv'])
    expect((await readFile(join(dir, 'q-1.csv'))).equals(bytes)).toBe(true)
  })

  it('leaves no partial file behind after a success, a failure or an abort', async () => {
    await store.put('ok', streamOf([makeBytes(10, 1)]))
    await expect(
      store.put('failed', failingStreamOf([makeBytes(100_000, 2)], new Error('boom'))),
    ).rejects.toThrow('boom')
    const writing = controlledStream()
    const abort = new AbortController()
    const aborted = store.put('aborted', writing.stream, { signal: abort.signal })
    writing.controller.enqueue(makeBytes(1000, 3))
    await settle()
    expect((await readdir(dir)).filter((name) => name.endsWith('.partial'))).toHaveLength(1)
    abort.abort()
    await expect(aborted).rejects.toThrow()
    expect(await readdir(dir)).toEqual(['ok'])
  })

  it('rejects with the body error itself and with the abort reason', async () => {
    const bodyError = new Error('upstream went away')
    await expect(store.put('x', failingStreamOf([], bodyError))).rejects.toBe(bodyError)
    const reason = new Error('client gave up')
    await expect(store.put('y', streamOf([]), { signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    )
  })

  it('removes partial files left by a crash on first use, and never lists them', async () => {
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, '.q-7.csv.0b7e1c4e-dead-beef-8c1a-2f4d5e6a7b8c.partial'), 'half')
    await writeFile(join(dir, '.something.partial'), 'half')
    await writeFile(join(dir, 'survivor.csv'), 'complete')
    // A key may itself end in .partial: only hidden temp files are swept.
    await writeFile(join(dir, 'report.partial'), 'a real blob')
    expect(await listKeys(store)).toEqual(['report.partial', 'survivor.csv'])
    expect((await readdir(dir)).sort()).toEqual(['report.partial', 'survivor.csv'])
    expect(await store.head('report.partial')).toEqual({ size: 11 })
  })

  it('lists neither dot files nor names that are not valid keys', async () => {
    await mkdir(dir, { recursive: true })
    await mkdir(join(dir, 'subdir'))
    await writeFile(join(dir, '.DS_Store'), 'x')
    await writeFile(join(dir, 'has space'), 'x')
    await store.put('real', streamOf([makeBytes(3, 1)]))
    expect(await listKeys(store)).toEqual(['real'])
    expect(await store.head('subdir')).toBeNull()
    expect(await store.get('subdir')).toBeNull()
  })

  it('locates a blob as the file:// URL of its absolute path', async () => {
    const relative = createFsStore({ dir: 'relative-dir-never-created' })
    expect(relative.locate('k')).toBe(
      pathToFileURL(join(process.cwd(), 'relative-dir-never-created', 'k')).href,
    )
    await store.put('q-2.csv', streamOf([makeBytes(3, 1)]))
    const url = store.locate('q-2.csv')
    expect(url).toBe(pathToFileURL(join(dir, 'q-2.csv')).href)
    expect(url.startsWith('file:///')).toBe(true)
  })

  it('gives each chunk back once, only after its bytes are written or copied', async () => {
    // Small chunks joined into batches, and chunks of a batch's size written as they are.
    const bytes = makeBytes(5 * 1024 * 1024 + 333, 9)
    const chunks = splitBytes(bytes, [64 * 1024, 1000, 1 << 20, 70_000, 2 << 20])
    const givenBack: Uint8Array[] = []
    await store.put('given-back.bin', streamOf(chunks), {
      giveBack: (chunk) => {
        givenBack.push(chunk)
        // What a producer that reuses the chunk does: the file must not show it.
        chunk.fill(0xee)
      },
    })
    expect(store.givesBack).toBe(true)
    expect(givenBack).toHaveLength(chunks.length)
    expect(new Set(givenBack).size).toBe(chunks.length)
    expect(Buffer.from(await readFile(join(dir, 'given-back.bin'))).equals(bytes)).toBe(true)
  })

  it('writes every byte, in order, when the file takes less than it is given each time', async () => {
    const bytes = makeBytes(300_000, 4)
    const parts = splitBytes(bytes, [70_000, 1, 0, 64 * 1024, 99_999])
    const file: number[] = []
    let calls = 0
    // write(2) and writev(2) may write less than asked: here at most 7,777 bytes a call.
    const take = (views: Uint8Array[]) => {
      calls++
      let budget = 7777
      for (const view of views) {
        const n = Math.min(budget, view.byteLength)
        file.push(...view.subarray(0, n))
        budget -= n
        if (budget === 0) break
      }
      return { bytesWritten: 7777 - budget }
    }
    const handle = {
      write: async (view: Uint8Array, offset: number, length: number) =>
        take([view.subarray(offset, offset + length)]),
      writev: async (views: Uint8Array[]) => take(views),
    }
    await writeAll(handle as unknown as FileHandle, parts)
    expect(Buffer.from(file).equals(bytes)).toBe(true)
    expect(calls).toBe(Math.ceil(bytes.length / 7777))
  })

  it('streams a 20 MB blob instead of reading it whole', async () => {
    const size = 20 * 1024 * 1024
    await store.put('big.bin', streamOf(splitBytes(makeBytes(size, 8), [1 << 20])))
    const object = await store.get('big.bin')
    expect(object?.size).toBe(size)
    const reader = object!.body.getReader()
    const first = await reader.read()
    expect(first.done).toBe(false)
    expect(first.value!.byteLength).toBeGreaterThan(0)
    expect(first.value!.byteLength).toBeLessThan(size)
    await reader.cancel()
  })

  it('serves a range straight from the file', async () => {
    const bytes = makeBytes(3 * 1024 * 1024, 6)
    await store.put('ranged.bin', streamOf(splitBytes(bytes, [1 << 16])))
    const start = 1_000_000
    const end = 2_500_000
    const object = await store.get('ranged.bin', { start, end })
    expect(object?.size).toBe(bytes.byteLength)
    const body = Buffer.from(await readBytes(object!.body))
    expect(body.equals(bytes.subarray(start, end + 1))).toBe(true)
  })

  it('names the driver and the key when the filesystem fails', async () => {
    await mkdir(join(dir, 'taken'), { recursive: true })
    // rename(2) cannot replace a directory with a file.
    await expect(store.put('taken', streamOf([makeBytes(3, 1)]))).rejects.toThrow(
      /^\[fs\] rename failed for taken: /,
    )
    expect((await readdir(dir)).filter((name) => name.endsWith('.partial'))).toEqual([])
  })
})
