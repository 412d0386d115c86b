/** Standard Webhooks signatures, checked by an independent reader (the standardwebhooks package). */
import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { importWebhookKey, signWebhook, toSecretBytes } from '../../src/webhooks/signature.ts'

const secret = `whsec_${randomBytes(32).toString('base64')}`

async function headersFor(id: string, timestamp: number, body: string, key = secret) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': await signWebhook(await importWebhookKey(key), id, timestamp, body),
  }
}

describe('signWebhook', () => {
  it('signs as the Standard Webhooks spec says: Webhook.verify accepts it', async () => {
    const body = JSON.stringify({ type: 'async_query.finished', data: { status: 'SUCCESSFUL' } })
    const now = Math.floor(Date.now() / 1000)
    const headers = await headersFor('msg_1', now, body)
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/)
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body))
  })

  it('is refused for another body, id, timestamp or secret', async () => {
    const body = '{"a":1}'
    const now = Math.floor(Date.now() / 1000)
    const headers = await headersFor('msg_1', now, body)
    const verifier = new Webhook(secret)
    expect(() => verifier.verify('{"a":2}', headers)).toThrow()
    expect(() => verifier.verify(body, { ...headers, 'webhook-id': 'msg_2' })).toThrow()
    expect(() =>
      verifier.verify(body, { ...headers, 'webhook-timestamp': String(now + 1) }),
    ).toThrow()
    const other = `whsec_${randomBytes(32).toString('base64')}`
    expect(() => new Webhook(other).verify(body, headers)).toThrow()
  })

  it('keys with the base64-decoded part of whsec_', async () => {
    expect(Buffer.from(toSecretBytes(secret)).toString('base64')).toBe(secret.slice(6))
    // The same key given without the prefix signs the same.
    const a = await headersFor('msg_x', 1_700_000_000, 'b')
    const b = await headersFor('msg_x', 1_700_000_000, 'b', secret.slice(6))
    expect(a['webhook-signature']).toBe(b['webhook-signature'])
  })

  it('signs non-ASCII bodies as their UTF-8 bytes', async () => {
    const body = JSON.stringify({ info: '查询失败 – ünïcode' })
    const headers = await headersFor('msg_u', Math.floor(Date.now() / 1000), body)
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body))
  })
})
