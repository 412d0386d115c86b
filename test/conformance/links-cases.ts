/**
 * Conformance cases of signed links, run on every target by suite.ts: a link made by the owner
 * downloads with no credentials (the same bytes, HEAD, ranges, gzip where the target does it),
 * and stops working when changed (403), expired (410) or deleted (404). The targets start with
 * LINK_SECRET set; rotation needs a restart and is tried on Node (test/runtime/node/).
 */
import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { expect, it } from 'vitest'
import { BASIC } from '../support/fake-kylin.ts'
import { rawRequest } from '../support/raw-request.ts'
import type { ConformanceContext, Envelope } from './suite.ts'

type LinkAnswer = Envelope<{ url: string; expires_at: string }>

/** An error answer's envelope, read over the raw request. */
function envelopeOf(body: Buffer): Envelope {
  return JSON.parse(body.toString('utf8')) as Envelope
}

export function addLinksCases({ target, api, submit, waitForEnd }: ConformanceContext): void {
  const makeLink = async (id: string, body: unknown, auth: string = BASIC.ANALYST) => {
    const res = await api(`/${id}/link`, {
      method: 'POST',
      auth,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
    return { status: res.status, json: (await res.json()) as LinkAnswer }
  }

  const finished = async (body: Record<string, unknown>) => {
    const id = await submit(body)
    expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
    return id
  }

  it('signed links: download with no credentials, the same bytes, HEAD, a range and gzip', async () => {
    const id = await finished({ sql: 'select * from rows_2000', file_name: 'shared' })
    const owned = await api(`/${id}/result_download`)
    expect(owned.status).toBe(200)
    const bytes = Buffer.from(await owned.arrayBuffer())
    const sha = createHash('sha256').update(bytes).digest('hex')

    const made = await makeLink(id, { ttl: 600 })
    expect(made.status).toBe(200)
    expect(made.json.code).toBe('000')
    const { url, expires_at } = made.json.data
    expect(new URL(url).origin).toBe(new URL(target().url).origin)
    expect(Date.parse(expires_at) - Date.now()).toBeGreaterThan(590_000)

    const linked = await rawRequest('GET', url)
    expect(linked.status).toBe(200)
    expect(linked.body).toEqual(bytes)
    expect(linked.headers['content-length']).toBe(String(bytes.length))
    expect(linked.headers.etag).toBe(`"${sha}"`)
    expect(linked.headers['repr-digest']).toBe(
      `sha-256=:${Buffer.from(sha, 'hex').toString('base64')}:`,
    )
    expect(linked.headers['content-disposition']).toBe('attachment; filename="shared.csv"')

    const head = await rawRequest('HEAD', url)
    expect(head.status).toBe(200)
    expect(head.headers['content-length']).toBe(String(bytes.length))
    expect(head.body.length).toBe(0)

    const range = await rawRequest('GET', url, { Range: 'bytes=100-199' })
    expect(range.status).toBe(206)
    expect(range.headers['content-range']).toBe(`bytes 100-199/${bytes.length}`)
    expect(range.body).toEqual(bytes.subarray(100, 200))
    const cached = await rawRequest('GET', url, { 'If-None-Match': `"${sha}"` })
    expect(cached.status).toBe(304)

    const gz = await rawRequest('GET', url, { 'Accept-Encoding': 'gzip' })
    expect(gz.status).toBe(200)
    if (target().gzips) {
      expect(gz.headers['content-encoding']).toBe('gzip')
      expect(gunzipSync(gz.body)).toEqual(bytes)
    } else {
      expect(gz.body).toEqual(bytes)
    }
  })

  it('signed links: a link fixes its form, converted on the fly, and no other', async () => {
    const id = await finished({ sql: 'select * from kylin_sales' })
    const made = await makeLink(id, { ttl: 600, format: 'ndjson' })
    expect(made.status).toBe(200)
    const { url } = made.json.data
    const owned = await api(`/${id}/result?format=ndjson`)
    const linked = await rawRequest('GET', url)
    expect(linked.status).toBe(200)
    expect(linked.body.toString('utf8')).toBe(await owned.text())
    const bent = await rawRequest('GET', url.replace('format=ndjson', 'format=csv'))
    expect(bent.status).toBe(403)
    await api(`/${id}`, { method: 'DELETE' })
  })

  it('signed links: a changed id, expiry or signature, or an unknown key, answers 403', async () => {
    const id = await finished({ sql: 'select * from kylin_sales' })
    const other = await finished({ sql: 'select * from kylin_sales' })
    const { url } = (await makeLink(id, { ttl: 600 })).json.data
    const [, expires = '', signature = ''] = /\/(\d+)\/([\w-]+)$/.exec(url) ?? []
    expect(signature).toHaveLength(43)
    const flipped = signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))
    // A signature of the right length made with a key the gateway does not have.
    const foreign = createHash('sha256').update(signature).digest('base64url')
    for (const tampered of [
      url.replace(id, other),
      url.replace(`/${expires}/`, `/${Number(expires) + 86_400}/`),
      url.replace(signature, flipped),
      url.replace(signature, foreign),
      url.replace(signature, signature.slice(0, 42)),
    ]) {
      const res = await rawRequest('GET', tampered)
      expect(res.status, tampered).toBe(403)
      const body = envelopeOf(res.body)
      expect(body.code).toBe('999')
      expect(body.msg).toMatch(/^This link is not valid/)
    }
    expect((await rawRequest('GET', url)).status).toBe(200)
  })

  it('signed links: stop working once expired (410) and once the result is deleted (404)', async () => {
    const id = await finished({ sql: 'select * from kylin_sales' })
    const short = (await makeLink(id, { ttl: 1 })).json.data
    const long = (await makeLink(id, { ttl: 600 })).json.data
    const wait = Date.parse(short.expires_at) + 100 - Date.now()
    expect(wait).toBeLessThanOrEqual(2_100)
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)))
    const expired = await rawRequest('GET', short.url)
    expect(expired.status).toBe(410)
    expect(envelopeOf(expired.body).msg).toBe(
      `This link expired at ${short.expires_at}. Ask the query’s owner for a new link.`,
    )
    expect((await rawRequest('GET', long.url)).status).toBe(200)

    expect((await api(`/${id}`, { method: 'DELETE' })).status).toBe(200)
    const gone = await rawRequest('GET', long.url)
    expect(gone.status).toBe(404)
    const download = await api(`/${id}/result`)
    expect(download.status).toBe(404)
    expect(envelopeOf(gone.body).msg).toBe(((await download.json()) as Envelope).msg)
  })

  it("signed links: only the owner or an admin makes one, of a SUCCESSFUL query's result", async () => {
    const id = await finished({ sql: 'select * from kylin_sales' })
    const other = await makeLink(id, { ttl: 60 }, BASIC.MODELER)
    expect(other.status).toBe(403)
    expect(other.json.data).toBeNull()
    expect((await makeLink(id, { ttl: 60 }, BASIC.ADMIN)).status).toBe(200)
    expect((await makeLink(id, { ttl: 0 })).status).toBe(400)
    const failed = await submit({ sql: 'select * from no_such_table' })
    expect((await waitForEnd(failed)).status).toBe('FAILED')
    expect((await makeLink(failed, { ttl: 60 })).status).toBe(404)
    const anonymous = await api(`/${id}/link`, { method: 'POST', auth: null })
    expect(anonymous.status).toBe(401)
    await anonymous.arrayBuffer()
  })
}
