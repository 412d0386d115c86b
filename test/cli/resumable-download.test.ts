/**
 * The download of the export command against a scripted gateway client: a length the status did
 * not give is taken from the answer, a kept part longer than the result is started over, and a
 * wrong size fails the check and removes the file.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GatewayClient } from '../../src/cli/gateway-client.ts'
import { downloadResult } from '../../src/cli/resumable-download.ts'

const BODY = Buffer.from('1,NAME_1\n2,NAME_2\n3,NAME_3\n')
const SHA = createHash('sha256').update(BODY).digest('hex')

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kylin-export-download-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

/** A client whose downloads answer the whole body (or a range of it), recording the headers. */
function scripted(body: Buffer, options: { contentLength: boolean }) {
  const seen: Record<string, string>[] = []
  const client = {
    download: async (_id: string, headers: Record<string, string>) => {
      seen.push(headers)
      const range = /^bytes=(\d+)-$/.exec(headers.Range ?? '')
      if (range && headers['If-Range'] === `"${SHA}"`) {
        const start = Number(range[1])
        return new Response(new Uint8Array(body.subarray(start)), {
          status: 206,
          headers: {
            'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`,
            ETag: `"${SHA}"`,
          },
        })
      }
      // A streamed body: fetch's Response sets no Content-Length of its own then.
      const stream = new ReadableStream({
        start(controller) {
          controller.enqueue(new Uint8Array(body))
          controller.close()
        },
      })
      const headersOut: Record<string, string> = { ETag: `"${SHA}"` }
      if (options.contentLength) headersOut['Content-Length'] = String(body.length)
      return new Response(stream, { status: 200, headers: headersOut })
    },
    toFailure: async () => new Error('unexpected'),
  } as unknown as GatewayClient
  return { client, seen }
}

const quiet = { retries: 0, retryDelayMs: 1, onProgress: () => {} }

describe('downloadResult', () => {
  it('takes the length from the answer when the status gave none', async () => {
    for (const contentLength of [true, false]) {
      const output = join(dir, `unknown-${contentLength}.csv`)
      const { client } = scripted(BODY, { contentLength })
      await downloadResult(
        client,
        'id',
        { bytes: undefined, sha256: undefined },
        { ...quiet, output },
      )
      expect((await readFile(output)).equals(BODY)).toBe(true)
    }
  })

  it('starts over when the kept part is longer than the result', async () => {
    const output = join(dir, 'longer.csv')
    await writeFile(`${output}.part`, Buffer.concat([BODY, Buffer.from('extra')]))
    await writeFile(`${output}.part.json`, JSON.stringify({ query_id: 'id', etag: `"${SHA}"` }))
    const { client, seen } = scripted(BODY, { contentLength: true })
    await downloadResult(client, 'id', { bytes: BODY.length, sha256: SHA }, { ...quiet, output })
    expect(seen).toEqual([{}])
    expect((await readFile(output)).equals(BODY)).toBe(true)
    expect(existsSync(`${output}.part.json`)).toBe(false)
  })

  it('resumes a part of another query from the start, never with its ETag', async () => {
    const output = join(dir, 'other.csv')
    await writeFile(`${output}.part`, BODY.subarray(0, 5))
    await writeFile(
      `${output}.part.json`,
      JSON.stringify({ query_id: 'another', etag: `"${SHA}"` }),
    )
    const { client, seen } = scripted(BODY, { contentLength: true })
    await downloadResult(client, 'id', { bytes: BODY.length, sha256: SHA }, { ...quiet, output })
    expect(seen).toEqual([{}])
    expect((await readFile(output)).equals(BODY)).toBe(true)
  })

  it('fails a size that differs from the status and removes the file', async () => {
    const output = join(dir, 'short.csv')
    const { client } = scripted(BODY, { contentLength: true })
    await expect(
      downloadResult(
        client,
        'id',
        { bytes: BODY.length + 1, sha256: undefined },
        { ...quiet, output },
      ),
    ).rejects.toMatchObject({ exitCode: 3 })
    expect(existsSync(`${output}.part`)).toBe(true)
    const { client: again } = scripted(Buffer.concat([BODY, Buffer.from('x!')]), {
      contentLength: true,
    })
    await rm(`${output}.part.json`, { force: true })
    await expect(
      downloadResult(
        again,
        'id',
        { bytes: BODY.length + 1, sha256: undefined },
        { ...quiet, output },
      ),
    ).rejects.toMatchObject({ exitCode: 4, message: expect.stringContaining('bytes were saved') })
    expect(existsSync(`${output}.part`)).toBe(false)
    expect(existsSync(output)).toBe(false)
  })
})
