/**
 * The result store the Node runtime uses, picked by STORE: fs, memory or s3. Node only: the s3
 * store sends its requests through an undici pool of its own, closed with the gateway.
 */
import type { Config } from '../../config/config.ts'
import type { S3Settings } from '../../config/store-settings.ts'
import { ConfigError } from '../../errors.ts'
import { createFsStore } from '../../store/fs.ts'
import { createMemoryStore } from '../../store/memory.ts'
import { messageOf } from '../../store/streams.ts'
import type { BlobStore } from '../../store/types.ts'
import type { StoredFileSender } from '../../deps.ts'
import { createStoredFileSender } from './stored-file-sender.ts'
import { createUndiciFetch } from './undici-fetch.ts'

export interface NodeStore {
  store: BlobStore
  /** Downloads written from the file with Node streams; the fs store only. */
  sendStoredFile?: StoredFileSender
  close(): Promise<void>
}

/** Long enough for a service that assembles a large multipart upload before it answers. */
const S3_HEADERS_TIMEOUT_MS = 5 * 60_000
/** A stall between two body chunks; a download paused by a slow client does not count. */
const S3_BODY_TIMEOUT_MS = 2 * 60_000

/** The s3 driver (and its XML parser) is loaded only when configured: ~10 MB of RSS otherwise. */
export async function createNodeStore(config: Config): Promise<NodeStore> {
  switch (config.store) {
    case 'fs': {
      const store = createFsStore({ dir: config.dataDir })
      return { store, sendStoredFile: createStoredFileSender(store), close: async () => {} }
    }
    case 'memory':
      return {
        store: createMemoryStore({ maxBytes: config.memoryStoreMaxBytes }),
        close: async () => {},
      }
    case 's3':
      return createNodeS3Store(config)
    case 'r2':
      throw new ConfigError(
        'STORE (--store) r2 is only for Cloudflare Workers; use fs, memory or s3 on Node',
      )
  }
}

async function createNodeS3Store(config: Config): Promise<NodeStore> {
  const settings = config.s3
  if (!settings) throw new ConfigError('S3_BUCKET (--s3-bucket) is required with STORE=s3')
  const pool = createUndiciFetch({
    connectTimeoutMs: 10_000,
    headersTimeoutMs: S3_HEADERS_TIMEOUT_MS,
    bodyTimeoutMs: S3_BODY_TIMEOUT_MS,
  })
  const { createS3Store } = await import('../../store/s3.ts')
  let store: BlobStore
  try {
    store = createS3Store({ ...settings, fetch: pool.fetch })
  } catch (err) {
    void pool.close()
    // e.g. a prefix S3 cannot address: one line at start-up, like any other bad setting.
    throw new ConfigError(`STORE (--store) s3: ${messageOf(err)}`)
  }
  return { store, close: () => pool.close() }
}

/** Where an s3 store keeps results, for the start-up line: never a credential. */
export function describeS3Store(settings: S3Settings): string {
  const where = settings.endpoint ?? `AWS S3 ${settings.region}`
  return `s3 (s3://${settings.bucket}/${settings.prefix} at ${where})`
}
