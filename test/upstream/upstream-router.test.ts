/** The router: a project's upstream, the default for the rest, an upstream by a record's name. */
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import type { KylinClient } from '../../src/upstream/types.ts'
import { createUpstreamRouter, toUpstreamRouter } from '../../src/upstream/upstream-router.ts'

const clientOf = (url: string) => ({ url }) as unknown as KylinClient
const routes = parseConfig({
  KYLIN_UPSTREAMS: 'learn_kylin=http://kylin5:7070,Sales=http://kylin5:7070,*=http://kylin4:7070',
}).upstreams

describe('createUpstreamRouter', () => {
  const router = createUpstreamRouter(routes, clientOf)

  it('routes a project, whatever its case, and anything else to the default', () => {
    expect(router.routed).toBe(true)
    expect(router.forProject('learn_kylin').name).toBe('kylin5:7070')
    expect(router.forProject('LEARN_KYLIN').name).toBe('kylin5:7070')
    expect(router.forProject('sales').kylin).toBe(router.forProject('learn_kylin').kylin)
    for (const other of ['other', '', undefined, null, '__proto__', 'constructor']) {
      expect(router.forProject(other)).toBe(router.default)
    }
    expect(router.default).toMatchObject({ name: 'kylin4:7070', isDefault: true })
  })

  it('finds an upstream by name, and nothing for a name it does not have', () => {
    expect(router.byName('kylin5:7070')?.url).toBe('http://kylin5:7070')
    expect(router.byName('gone:7070')).toBeUndefined()
    expect(router.byName(undefined)).toBeUndefined()
  })

  it('builds one client per upstream URL', () => {
    expect(router.all.map((u) => (u.kylin as unknown as { url: string }).url)).toEqual([
      'http://kylin4:7070',
      'http://kylin5:7070',
    ])
  })
})

describe('toUpstreamRouter', () => {
  it("keeps the runtime's own client for the default and builds the others", () => {
    const own = clientOf('own')
    const built: string[] = []
    const router = toUpstreamRouter(routes, own, (url) => {
      built.push(url)
      return clientOf(url)
    })
    expect(router.default.kylin).toBe(own)
    expect(built).toEqual(['http://kylin5:7070'])
  })

  it('is not routed with one upstream', () => {
    const single = parseConfig({ KYLIN_UPSTREAM_URL: 'http://kylin:7070' }).upstreams
    expect(createUpstreamRouter(single, clientOf).routed).toBe(false)
  })
})
