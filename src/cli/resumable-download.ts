/**
 * Downloads a finished result into `<output>.part`, hashing what it writes; a cut transfer
 * resumes with `Range` and `If-Range` (the ETag it started with), also across runs through a
 * small `<output>.part.json` naming the query and ETag. Only a file whose size and SHA-256 match
 * the gateway's status is renamed to `<output>`. Node only (the command's own part).
 */
import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { CommandError, describeCause, type GatewayClient } from './gateway-client.ts'
import { EXIT } from './options.ts'
import { readChunks } from './stream-chunks.ts'

export interface ExpectedFile {
  /** Absent where the status gave none: the answer's own length is taken then. */
  bytes: number | undefined
  /** Absent where the gateway kept none: the size alone is checked then. */
  sha256: string | undefined
}

export interface DownloadOptions {
  output: string
  retries: number
  /** Before each resume; grows with the attempt. */
  retryDelayMs?: number
  onProgress(received: number, total: number): void
  /** Told before a resume, with the offset it resumes from. */
  onResume?(offset: number, attempt: number): void
}

interface PartState {
  query_id: string
  etag: string
}

const partPathOf = (output: string) => `${output}.part`
const statePathOf = (output: string) => `${output}.part.json`

export async function downloadResult(
  client: GatewayClient,
  id: string,
  expected: ExpectedFile,
  options: DownloadOptions,
): Promise<void> {
  const part = partPathOf(options.output)
  const { etag: savedEtag, offset: savedOffset } = await findResumablePart(options.output, id)
  let total = expected.bytes
  let etag = savedEtag
  // A kept part longer than the result is not a prefix of it: start over.
  let received = total !== undefined && savedOffset > total ? 0 : savedOffset
  let hash = createHash('sha256')
  if (received > 0) await hashFile(part, hash)
  const handle = await open(part, received > 0 ? 'a' : 'w')
  let attempt = 0
  try {
    while (total === undefined || received < total || (received === 0 && attempt === 0)) {
      const headers: Record<string, string> = {}
      if (received > 0 && etag) {
        headers.Range = `bytes=${received}-`
        headers['If-Range'] = etag
      }
      let response: Response
      try {
        response = await client.download(id, headers)
      } catch (error) {
        if (!(error instanceof CommandError) || error.exitCode !== EXIT.network) throw error
        attempt = await nextAttempt(attempt, options, received, error.message)
        continue
      }
      if (response.status === 416 && received === total) {
        await response.body?.cancel()
        break
      }
      if (response.status === 200) {
        // A whole file: from the start, whatever was kept (If-Range did not match, or none sent).
        if (received > 0) await handle.truncate(0)
        received = 0
        hash = createHash('sha256')
        const length = response.headers.get('content-length')
        if (total === undefined && length !== null && /^\d+$/.test(length)) total = Number(length)
      } else if (response.status === 206) {
        const range = /^bytes (\d+)-\d+\/(\d+)$/.exec(response.headers.get('content-range') ?? '')
        const start = Number(range?.[1])
        if (total === undefined && range) total = Number(range[2])
        if (start !== received) {
          await response.body?.cancel()
          throw new CommandError(
            `download: the gateway resumed at byte ${start}, not ${received}`,
            EXIT.failed,
          )
        }
      } else {
        throw await client.toFailure(response, 'download')
      }
      const answeredEtag = response.headers.get('etag') ?? ''
      if (answeredEtag !== etag) {
        etag = answeredEtag
        const state: PartState = { query_id: id, etag }
        await writeFile(statePathOf(options.output), JSON.stringify(state))
      }
      options.onProgress(received, total ?? received)
      try {
        for await (const chunk of readChunks(response.body)) {
          await handle.write(chunk)
          hash.update(chunk)
          received += chunk.byteLength
          options.onProgress(received, total ?? received)
        }
      } catch (error) {
        attempt = await nextAttempt(attempt, options, received, describeCause(error))
        continue
      }
      // A length never announced is the length of an answer that ended cleanly.
      total ??= received
      if (received >= total) break
      attempt = await nextAttempt(attempt, options, received, 'the connection closed early')
    }
  } finally {
    await handle.close()
  }
  const sha256 = hash.digest('hex')
  if (received !== total || (expected.sha256 !== undefined && sha256 !== expected.sha256)) {
    await removePart(options.output)
    const what =
      received !== total
        ? `${received} bytes were saved where the gateway stored ${total}`
        : `its SHA-256 is ${sha256} where the gateway stored ${expected.sha256}`
    throw new CommandError(
      `download: the file is not the stored result (${what}); it was removed`,
      EXIT.integrity,
    )
  }
  await rename(part, options.output)
  await rm(statePathOf(options.output), { force: true })
}

async function nextAttempt(
  attempt: number,
  options: DownloadOptions,
  received: number,
  reason: string,
): Promise<number> {
  if (attempt >= options.retries) {
    throw new CommandError(
      `download cut at byte ${received} after ${attempt + 1} attempt${attempt === 0 ? '' : 's'} (${reason}); ${partPathOf(options.output)} is kept: run the same command with --query-id to resume`,
      EXIT.network,
    )
  }
  options.onResume?.(received, attempt + 1)
  await new Promise((resolve) =>
    setTimeout(resolve, (options.retryDelayMs ?? 1000) * (attempt + 1)),
  )
  return attempt + 1
}

/** The partial file of an earlier run of the same query, if one is there to resume. */
async function findResumablePart(
  output: string,
  id: string,
): Promise<{ etag: string; offset: number }> {
  try {
    const state = JSON.parse(await readFile(statePathOf(output), 'utf8')) as Partial<PartState>
    if (state.query_id !== id || typeof state.etag !== 'string' || !state.etag)
      return { etag: '', offset: 0 }
    const { size } = await stat(partPathOf(output))
    return { etag: state.etag, offset: size }
  } catch {
    return { etag: '', offset: 0 }
  }
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
}

async function removePart(output: string): Promise<void> {
  await rm(partPathOf(output), { force: true })
  await rm(statePathOf(output), { force: true })
}
