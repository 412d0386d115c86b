/**
 * A real local R2 bucket for Node tests (Miniflare), wrapped to follow multipart uploads: R2 has
 * no call that lists unfinished ones, so this is how a test sees that none was left open.
 */
import type { R2Bucket } from '@cloudflare/workers-types'
import { Miniflare } from 'miniflare'

type R2MultipartUpload = Awaited<ReturnType<R2Bucket['createMultipartUpload']>>

export interface MiniflareR2 {
  /** The bucket, to pass to createR2Store. */
  bucket: R2Bucket
  /** Multipart uploads created and neither completed nor aborted yet. */
  readonly openUploads: number
  /** Parts handed to R2 so far, by every upload. */
  readonly uploadedParts: number
  /** Every object key in the bucket (all prefixes). */
  listKeys(): Promise<string[]>
  dispose(): Promise<void>
}

export async function startMiniflareR2(): Promise<MiniflareR2> {
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response("") } }',
    r2Buckets: ['RESULTS'],
    cf: false,
    compatibilityDate: '2026-04-20',
  })
  // Miniflare's proxy type comes from its own bundled workers-types; same API at runtime.
  const real = (await mf.getR2Bucket('RESULTS')) as unknown as R2Bucket
  const open = new Set<string>()
  let uploadedParts = 0

  const follow = (upload: R2MultipartUpload): R2MultipartUpload => {
    open.add(upload.uploadId)
    return {
      key: upload.key,
      uploadId: upload.uploadId,
      async uploadPart(partNumber, value, options) {
        const part = await upload.uploadPart(partNumber, value, options)
        uploadedParts++
        return part
      },
      async complete(parts) {
        const object = await upload.complete(parts)
        open.delete(upload.uploadId)
        return object
      },
      async abort() {
        await upload.abort()
        open.delete(upload.uploadId)
      },
    }
  }

  const bucket = {
    head: (key: string) => real.head(key),
    get: (key: string, options?: Parameters<R2Bucket['get']>[1]) => real.get(key, options),
    put: (key: string, value: Parameters<R2Bucket['put']>[1]) => real.put(key, value),
    createMultipartUpload: async (key: string) => follow(await real.createMultipartUpload(key)),
    resumeMultipartUpload: (key: string, uploadId: string) =>
      real.resumeMultipartUpload(key, uploadId),
    delete: (keys: string | string[]) => real.delete(keys),
    list: (options?: Parameters<R2Bucket['list']>[0]) => real.list(options),
  } as unknown as R2Bucket

  return {
    bucket,
    get openUploads() {
      return open.size
    },
    get uploadedParts() {
      return uploadedParts
    },
    async listKeys() {
      const keys: string[] = []
      let cursor: string | undefined
      do {
        const page = await real.list({ cursor })
        keys.push(...page.objects.map((object) => object.key))
        cursor = page.truncated ? page.cursor : undefined
      } while (cursor !== undefined)
      return keys
    },
    dispose: () => mf.dispose(),
  }
}
