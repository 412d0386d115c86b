/** Identity: credentials required, upstream verdicts, caching by hash, concurrent look-ups folded. */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createIdentityResolver, toCredentials } from '../../src/identity/identity-resolver.ts'
import { GatewayError, UpstreamError } from '../../src/errors.ts'
import { NO_METRICS } from '../../src/ops/metrics.ts'
import type { Credentials, UserIdentity } from '../../src/domain/caller.ts'
import type { KylinClient } from '../../src/upstream/types.ts'

const admin: UserIdentity = { username: 'ADMIN', authorities: ['ROLE_ADMIN'], isAdmin: true }

function fakeKylin(answer: (c: Credentials) => Promise<UserIdentity | null>) {
  const calls: Credentials[] = []
  const kylin: KylinClient = {
    query: () => Promise.reject(new Error('unused')),
    authenticate: async (credentials) => {
      calls.push(credentials)
      return answer(credentials)
    },
  }
  return { kylin, calls }
}

describe('toCredentials', () => {
  it('takes Authorization and Cookie only', () => {
    const headers = new Headers({ authorization: 'Basic x', cookie: 'JSESSIONID=1', accept: 'a' })
    expect(toCredentials(headers)).toEqual({ authorization: 'Basic x', cookie: 'JSESSIONID=1' })
    expect(toCredentials(new Headers())).toEqual({})
  })
})

describe('createIdentityResolver', () => {
  it('refuses a request without credentials with 401, without asking the upstream', async () => {
    const { kylin, calls } = fakeKylin(async () => admin)
    const resolver = createIdentityResolver({ kylin, ttlMs: 1000 })
    await expect(resolver.resolve({})).rejects.toMatchObject({ status: 401 })
    expect(calls).toHaveLength(0)
  })

  it('refuses credentials the upstream rejects with 401', async () => {
    const { kylin } = fakeKylin(async () => null)
    const resolver = createIdentityResolver({ kylin, ttlMs: 1000 })
    await expect(resolver.resolve({ authorization: 'Basic bad' })).rejects.toMatchObject({
      status: 401,
    })
  })

  it('caches an identity per credential and folds concurrent look-ups', async () => {
    const { kylin, calls } = fakeKylin(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return admin
    })
    const resolver = createIdentityResolver({ kylin, ttlMs: 60_000 })
    const results = await Promise.all(
      [1, 2, 3].map(() => resolver.resolve({ authorization: 'Basic a' })),
    )
    expect(results).toEqual([admin, admin, admin])
    await resolver.resolve({ authorization: 'Basic a' })
    expect(calls).toHaveLength(1)
    await resolver.resolve({ authorization: 'Basic b' })
    expect(calls).toHaveLength(2)
  })

  it('asks every time with a zero ttl', async () => {
    const { kylin, calls } = fakeKylin(async () => admin)
    const resolver = createIdentityResolver({ kylin, ttlMs: 0 })
    await resolver.resolve({ cookie: 'JSESSIONID=1' })
    await resolver.resolve({ cookie: 'JSESSIONID=1' })
    expect(calls).toHaveLength(2)
  })

  it('turns an unreachable upstream into a 502 that says so', async () => {
    const { kylin } = fakeKylin(async () => {
      throw new UpstreamError('Cannot reach the upstream Kylin at http://k: ECONNREFUSED')
    })
    const resolver = createIdentityResolver({ kylin, ttlMs: 1000 })
    const error = await resolver.resolve({ authorization: 'Basic a' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GatewayError)
    expect(error).toMatchObject({ status: 502 })
    expect((error as Error).message).toContain('ECONNREFUSED')
  })

  it('answers a fresh cached identity synchronously, and only that', async () => {
    const { kylin, calls } = fakeKylin(async (c) => (c.authorization === 'Basic a' ? admin : null))
    const hashText = (text: string) => createHash('sha256').update(text).digest('hex')
    const resolver = createIdentityResolver({ kylin, ttlMs: 1000, hashText })
    expect(resolver.peek({ authorization: 'Basic a' })).toBeUndefined()
    await resolver.resolve({ authorization: 'Basic a' })
    expect(resolver.peek({ authorization: 'Basic a' })).toEqual(admin)
    expect(resolver.peek({ authorization: 'Basic b' })).toBeUndefined()
    expect(resolver.peek({})).toBeUndefined()
    expect(calls).toHaveLength(1)
    // Without a synchronous hash there is no key to look up without awaiting.
    const noHash = createIdentityResolver({ kylin, ttlMs: 1000 })
    await noHash.resolve({ authorization: 'Basic a' })
    expect(noHash.peek({ authorization: 'Basic a' })).toBeUndefined()
  })

  it('counts a peeked look-up once, when the caller says it answered', async () => {
    const { kylin } = fakeKylin(async () => admin)
    const counts = { lookups: 0, misses: 0 }
    const metrics = {
      ...NO_METRICS,
      countIdentityLookup: () => void counts.lookups++,
      countIdentityMiss: () => void counts.misses++,
    }
    const hashText = (text: string) => createHash('sha256').update(text).digest('hex')
    const resolver = createIdentityResolver({ kylin, ttlMs: 1000, hashText, metrics })
    await resolver.resolve({ authorization: 'Basic a' })
    expect(counts).toEqual({ lookups: 1, misses: 1 })
    expect(resolver.peek({ authorization: 'Basic a' }, { countLookup: false })).toEqual(admin)
    expect(counts.lookups).toBe(1)
    resolver.countLookup()
    expect(resolver.peek({ authorization: 'Basic a' })).toEqual(admin)
    expect(counts).toEqual({ lookups: 3, misses: 1 })
  })
})
