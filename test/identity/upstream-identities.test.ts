/** One identity cache per upstream: a credential known on one upstream is unknown on another. */
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import type { Credentials, UserIdentity } from '../../src/domain/caller.ts'
import { createUpstreamIdentities } from '../../src/identity/upstream-identities.ts'
import type { KylinClient } from '../../src/upstream/types.ts'
import { createUpstreamRouter } from '../../src/upstream/upstream-router.ts'

const KNOWN: Record<string, string[]> = {
  'http://kylin4:7070': ['Basic old'],
  'http://kylin5:7070': ['Basic new'],
}

describe('createUpstreamIdentities', () => {
  it('asks the upstream it is given, and caches per upstream', async () => {
    const asked: string[] = []
    const upstreams = createUpstreamRouter(
      parseConfig({ KYLIN_UPSTREAMS: 'k5=http://kylin5:7070,*=http://kylin4:7070' }).upstreams,
      (url) =>
        ({
          async authenticate(credentials: Credentials): Promise<UserIdentity | null> {
            asked.push(url)
            const known = KNOWN[url]!.includes(credentials.authorization ?? '')
            return known
              ? { username: credentials.authorization!, authorities: [], isAdmin: false }
              : null
          },
        }) as unknown as KylinClient,
    )
    const identitiesOf = createUpstreamIdentities(upstreams, { ttlMs: 60_000 })
    const k5 = identitiesOf(upstreams.forProject('k5'))
    const k4 = identitiesOf(upstreams.default)
    expect(await k5.resolve({ authorization: 'Basic new' })).toMatchObject({
      username: 'Basic new',
    })
    await expect(k4.resolve({ authorization: 'Basic new' })).rejects.toMatchObject({ status: 401 })
    await k5.resolve({ authorization: 'Basic new' })
    expect(asked).toEqual(['http://kylin5:7070', 'http://kylin4:7070'])
    expect(identitiesOf(upstreams.forProject('K5'))).toBe(k5)
  })
})
