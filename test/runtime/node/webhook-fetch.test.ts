/**
 * The Node webhook sender's DNS check: a name is called only when every address it resolves to
 * may be reached, and the connection goes to an address that was checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LookupAddress } from 'node:dns'
import { createCheckedLookup, createWebhookFetch } from '../../../src/runtime/node/webhook-fetch.ts'
import { ADDRESS_REFUSED } from '../../../src/webhooks/types.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.ts'

/** A resolver standing in for DNS: each name's addresses, and the names asked. */
function fakeDns(table: Record<string, LookupAddress[]>) {
  const asked: string[] = []
  const resolve = async (hostname: string) => {
    asked.push(hostname)
    const addresses = table[hostname]
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    return addresses
  }
  return { resolve, asked }
}

const v4 = (address: string): LookupAddress => ({ address, family: 4 })
const v6 = (address: string): LookupAddress => ({ address, family: 6 })

function lookupWith(allowed: string[], table: Record<string, LookupAddress[]>, all = true) {
  const lookup = createCheckedLookup(allowed, fakeDns(table).resolve)
  return new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
    lookup('name.test', { all }, (error, address) => resolve({ error, address })),
  )
}

describe('createCheckedLookup', () => {
  it('passes public addresses through, all of them or the first', async () => {
    const table = { 'name.test': [v4('93.184.216.34'), v6('2606:2800:220:1::1')] }
    expect(await lookupWith(['name.test'], table)).toEqual({
      error: null,
      address: table['name.test'],
    })
    expect(await lookupWith(['name.test'], table, false)).toEqual({
      error: null,
      address: '93.184.216.34',
    })
  })

  it.each([
    ['a look-alike name that resolves to loopback', [v4('127.0.0.1')]],
    ['a name that resolves to ::1', [v6('::1')]],
    [
      'a name with one public and one private address (rebinding)',
      [v4('93.184.216.34'), v4('10.0.0.7')],
    ],
    ['a name that resolves to the metadata address', [v4('169.254.169.254')]],
    ['a name that resolves to a mapped loopback', [v6('::ffff:127.0.0.1')]],
    ['a name that resolves to a unique-local address', [v6('fd00::5')]],
    ['a name that resolves to nothing', []],
  ])('refuses %s', async (_, addresses) => {
    const { error } = await lookupWith(['name.test'], { 'name.test': addresses })
    expect(error?.code).toBe(ADDRESS_REFUSED)
  })

  it('allows a special address the list names itself', async () => {
    const table = { 'name.test': [v4('10.0.0.7')] }
    expect((await lookupWith(['name.test', '10.0.0.7'], table)).error).toBeNull()
  })
})

describe('createWebhookFetch', () => {
  let receiver: WebhookReceiver
  beforeAll(async () => {
    receiver = await startWebhookReceiver()
  })
  afterAll(async () => {
    await receiver.close()
  })
  const port = () => new URL(receiver.url).port

  it('connects a listed name to the checked address, which the list names', async () => {
    const dns = fakeDns({ 'hooks.test': [v4('127.0.0.1')] })
    const sender = createWebhookFetch({
      allowedHosts: ['hooks.test', '127.0.0.1'],
      connectTimeoutMs: 2000,
      resolve: dns.resolve,
    })
    try {
      const answer = await sender.fetch(`http://hooks.test:${port()}/ok/named`, {
        method: 'POST',
        body: '{}',
      })
      expect(answer.status).toBe(204)
      expect(receiver.to('/ok/named')).toHaveLength(1)
      expect(receiver.to('/ok/named')[0]!.headers.host).toBe(`hooks.test:${port()}`)
      expect(dns.asked).toEqual(['hooks.test'])
    } finally {
      await sender.close()
    }
  })

  it('never connects a name that resolves to a loopback address the list does not name', async () => {
    const dns = fakeDns({ '127.0.0.1.nip.io': [v4('127.0.0.1')], 'six.test': [v6('::1')] })
    const sender = createWebhookFetch({
      allowedHosts: ['127.0.0.1.nip.io', 'six.test'],
      connectTimeoutMs: 2000,
      resolve: dns.resolve,
    })
    try {
      for (const host of ['127.0.0.1.nip.io', 'six.test']) {
        const error = await sender
          .fetch(`http://${host}:${port()}/ok/lookalike`, { method: 'POST', body: '{}' })
          .then(
            () => null,
            (e: unknown) => e,
          )
        expect((error as { cause?: { code?: string } }).cause?.code).toBe(ADDRESS_REFUSED)
      }
      expect(receiver.to('/ok/lookalike')).toEqual([])
    } finally {
      await sender.close()
    }
  })

  it('asks the system resolver by default: localhost is loopback', async () => {
    const sender = createWebhookFetch({ allowedHosts: ['localhost'], connectTimeoutMs: 2000 })
    try {
      const error = await sender
        .fetch(`http://localhost:${port()}/ok/localhost`, { method: 'POST', body: '{}' })
        .then(
          () => null,
          (e: unknown) => e,
        )
      expect((error as { cause?: { code?: string } }).cause?.code).toBe(ADDRESS_REFUSED)
      expect(receiver.to('/ok/localhost')).toEqual([])
    } finally {
      await sender.close()
    }
  })

  it('does not follow redirects', async () => {
    const sender = createWebhookFetch({ allowedHosts: ['127.0.0.1'], connectTimeoutMs: 2000 })
    try {
      const to = encodeURIComponent(`${receiver.url}/ok/after-redirect`)
      const answer = await sender.fetch(`${receiver.url}/redirect/x?to=${to}`, {
        method: 'POST',
        body: '{}',
      })
      expect(answer.status).toBe(302)
      expect(receiver.to('/ok/after-redirect')).toEqual([])
    } finally {
      await sender.close()
    }
  })
})
