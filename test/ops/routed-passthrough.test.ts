/** The routed pass-through: each request to the Kylin of the project it names, its body whole. */
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import { createRoutedPassthrough } from '../../src/ops/routed-passthrough.ts'
import type { KylinClient } from '../../src/upstream/types.ts'
import { createUpstreamRouter } from '../../src/upstream/upstream-router.ts'

function setUp(settings: Record<string, string>) {
  const upstreams = createUpstreamRouter(parseConfig(settings).upstreams, () => ({}) as KylinClient)
  const sent: { url: string; body: string }[] = []
  const passthrough = createRoutedPassthrough({
    upstreams,
    fetch: async (input, init) => {
      const body = init?.body ? await new Response(init.body).text() : ''
      sent.push({ url: String(input), body })
      return new Response('ok')
    },
  })
  return { passthrough, sent }
}

describe('createRoutedPassthrough', () => {
  it('sends each request to its project Kylin, the rest to the default', async () => {
    const { passthrough, sent } = setUp({
      KYLIN_UPSTREAMS: 'k5=http://kylin5:7070/base,*=http://kylin4:7070',
    })
    const body = JSON.stringify({ sql: 'select 1', project: 'k5' })
    await passthrough(new Request('http://gw/kylin/api/query', { method: 'POST', body }))
    await passthrough(new Request('http://gw/kylin/api/cubes?projectName=K5&x=1'))
    await passthrough(new Request('http://gw/kylin/api/projects'))
    expect(sent).toEqual([
      { url: 'http://kylin5:7070/base/kylin/api/query', body },
      { url: 'http://kylin5:7070/base/kylin/api/cubes?projectName=K5&x=1', body: '' },
      { url: 'http://kylin4:7070/kylin/api/projects', body: '' },
    ])
  })

  it('reads no body with one upstream', async () => {
    const { passthrough, sent } = setUp({ KYLIN_UPSTREAM_URL: 'http://kylin:7070' })
    const request = new Request('http://gw/kylin/api/query', {
      method: 'POST',
      body: '{"project":"a"}',
    })
    await passthrough(request)
    expect(sent).toEqual([{ url: 'http://kylin:7070/kylin/api/query', body: '{"project":"a"}' }])
  })
})
