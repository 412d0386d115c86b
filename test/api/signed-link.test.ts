/** Signed links made and checked: id, expiry and form signed together; 403 and 410 as due. */
import { describe, expect, it } from 'vitest'
import { createSignedLinks, hideLinkSignature } from '../../src/api/signed-link.ts'
import { GatewayError } from '../../src/errors.ts'

const keys = { secret: 'current-link-secret-of-enough-length-0123' }
const ID = '3c8e0b2a-6f1d-4c1e-9a57-0d2f5e8b7c41'
const OTHER_ID = '3c8e0b2a-6f1d-4c1e-9a57-0d2f5e8b7c42'
const START = Date.UTC(2026, 0, 2, 3, 4, 5, 250)

function makeLinks() {
  let clock = START
  return {
    links: createSignedLinks({ keys, now: () => clock }),
    setClock: (ms: number) => (clock = ms),
  }
}

/** The parts of a made link's path, as the download route reads them. */
function toRequest(path: string) {
  const url = new URL(`http://gateway.test${path}`)
  const [, segment, id = '', expires = '', signature = ''] = url.pathname.split('/')
  expect(segment).toBe('link')
  return { id, expires, signature, search: url.searchParams }
}

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise
    return 200
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError)
    return (error as GatewayError).status
  }
}

describe('signed links', () => {
  it('carries the id, an expiry rounded up to the second and the form, and checks back', async () => {
    const { links } = makeLinks()
    const link = await links.create(ID, 60, { format: 'xlsx', include_header: 'true' })
    const expires = Math.ceil(START / 1000) + 60
    expect(link.expiresAt).toBe(expires * 1000)
    expect(link.path).toMatch(
      new RegExp(`^/link/${ID}/${expires}/[A-Za-z0-9_-]{43}\\?format=xlsx&include_header=true$`),
    )
    expect(await links.check(toRequest(link.path))).toEqual({
      id: ID,
      form: { format: 'xlsx', include_header: 'true' },
    })
    const plain = await links.create(ID, 60, {})
    expect(plain.path).not.toContain('?')
    expect(await links.check(toRequest(plain.path))).toEqual({ id: ID, form: {} })
  })

  it('works until its expiry and answers 410 from then on', async () => {
    const { links, setClock } = makeLinks()
    const link = await links.create(ID, 1, {})
    setClock(link.expiresAt - 1)
    expect(await statusOf(links.check(toRequest(link.path)))).toBe(200)
    setClock(link.expiresAt)
    const expired = await links.check(toRequest(link.path)).catch((error: GatewayError) => error)
    expect((expired as GatewayError).status).toBe(410)
    expect((expired as GatewayError).message).toContain(new Date(link.expiresAt).toISOString())
  })

  it('answers 403 to a changed id, expiry, signature or form', async () => {
    const { links } = makeLinks()
    const link = await links.create(ID, 60, { format: 'json' })
    const good = toRequest(link.path)
    const later = String(Number(good.expires) + 3600)
    const flipped = good.signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))
    const tampered = [
      { ...good, id: OTHER_ID },
      { ...good, expires: later },
      { ...good, expires: `0${good.expires}` },
      { ...good, signature: flipped },
      { ...good, signature: good.signature.slice(1) },
      { ...good, search: new URLSearchParams('format=csv') },
      { ...good, search: new URLSearchParams('') },
      { ...good, search: new URLSearchParams('format=json&format=json') },
      { ...good, search: new URLSearchParams('format=json&project=x') },
      { ...good, search: new URLSearchParams('format=json&encode=gbk') },
      { ...good, id: 'not-an-id' },
    ]
    for (const request of tampered) {
      expect(await statusOf(links.check(request)), JSON.stringify({ ...request })).toBe(403)
    }
    expect(await statusOf(links.check(good))).toBe(200)
  })

  it('answers 403, not 410, to a changed link past its expiry', async () => {
    const { links, setClock } = makeLinks()
    const link = await links.create(ID, 1, {})
    setClock(link.expiresAt + 60_000)
    expect(await statusOf(links.check({ ...toRequest(link.path), id: OTHER_ID }))).toBe(403)
  })

  it('refuses a link of another secret', async () => {
    const { links } = makeLinks()
    const foreign = createSignedLinks({
      keys: { secret: 'someone-elses-secret-of-enough-length-789' },
      now: () => START,
    })
    const link = await foreign.create(ID, 60, {})
    expect(await statusOf(links.check(toRequest(link.path)))).toBe(403)
  })

  it('blanks the signature of a link path or URL, and nothing else', () => {
    const path = `/kylin/api/async_query/link/${ID}/1767326400/abcDEF_-123`
    expect(hideLinkSignature(path)).toBe(`/kylin/api/async_query/link/${ID}/1767326400/[redacted]`)
    expect(hideLinkSignature(`http://g.test${path}?format=csv`)).toBe(
      `http://g.test/kylin/api/async_query/link/${ID}/1767326400/[redacted]?format=csv`,
    )
    const status = `/kylin/api/async_query/${ID}/status`
    expect(hideLinkSignature(status)).toBe(status)
  })
})
