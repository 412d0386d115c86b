/**
 * callback_url at submit: refused with a 400 envelope naming the setting to change (webhooks off,
 * host not allowed, a special address, userinfo, another scheme), nothing recorded or run; an
 * allowed one is kept with the record. In every dialect.
 */
import { describe, expect, it } from 'vitest'
import { createGateway } from '../../src/app.ts'
import { parseConfig } from '../../src/config/config.ts'
import { ANALYST, makeTestDeps } from '../support/test-deps.ts'

const V4 = 'application/vnd.apache.kylin-v4-public+json'
const ON = parseConfig({
  KYLIN_UPSTREAM_URL: 'http://kylin.test:7070',
  WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
  WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com, 10.0.0.5:8080',
}).webhooks

async function submitWith(
  webhooks: typeof ON,
  callback: unknown,
  headers: Record<string, string> = {},
) {
  const deps = makeTestDeps(webhooks ? { webhooks } : {})
  const gateway = createGateway(deps)
  const res = await gateway.app.request('/kylin/api/async_query', {
    method: 'POST',
    headers: { Authorization: ANALYST, 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ sql: 'select 1', project: 'learn_kylin', callback_url: callback }),
  })
  await deps.settle()
  return {
    status: res.status,
    json: (await res.json()) as { code: string; msg: string; data: Record<string, string> | null },
    records: await deps.registry.list(),
    queries: deps.queries.length,
  }
}

describe('callback_url at submit', () => {
  it('is refused when webhooks are off, saying how to turn them on', async () => {
    const answer = await submitWith(undefined, 'https://hooks.example.com/k')
    expect(answer.status).toBe(400)
    expect(answer.json.code).toBe('999')
    expect(answer.json.msg).toMatch(/webhooks are off/)
    expect(answer.json.msg).toMatch(/WEBHOOK_SECRET .*WEBHOOK_ALLOWED_HOSTS/)
    expect(answer.records).toEqual([])
    expect(answer.queries).toBe(0)
    const cn = await submitWith(undefined, 'https://hooks.example.com/k', {
      'Accept-Language': 'zh-CN',
    })
    expect(cn.json.msg).toContain('未开启 webhook')
  })

  it.each([
    ['https://evil.example.com/k', /evil\.example\.com:443, which is not in WEBHOOK_ALLOWED_HOSTS/],
    ['http://10.0.0.5:9090/k', /10\.0\.0\.5:9090, which is not in WEBHOOK_ALLOWED_HOSTS/],
    ['http://127.0.0.1/k', /127\.0\.0\.1:80, which is not in WEBHOOK_ALLOWED_HOSTS/],
    ['http://0x7f.1/k', /127\.0\.0\.1:80, which is not in WEBHOOK_ALLOWED_HOSTS/],
    ['http://[::1]/k', /\[::1\]:80, which is not in WEBHOOK_ALLOWED_HOSTS/],
    ['http://localhost/k', /localhost:80, which is not in WEBHOOK_ALLOWED_HOSTS/],
    ['https://user:secret@hooks.example.com/k', /must not carry a user or password/],
    ['javascript:alert(1)', /must be an http:\/\/ or https:\/\/ URL, not javascript:/],
    ['/relative/path', /not a valid URL/],
  ])('refuses %s with a 400 that says why', async (callback, message) => {
    const answer = await submitWith(ON, callback, { Accept: V4 })
    expect(answer.status).toBe(400)
    expect(answer.json.code).toBe('999')
    expect(answer.json.msg).toMatch(message)
    expect(answer.json.msg).not.toContain('secret@')
    expect(answer.records).toEqual([])
    expect(answer.queries).toBe(0)
  })

  it('refuses a callback_url that is not a string, through the validation hook', async () => {
    const answer = await submitWith(ON, 42)
    expect(answer.status).toBe(400)
    expect(answer.json.code).toBe('999')
    expect(answer.json.msg).toContain('callback_url')
  })

  it('keeps an allowed one with the record (a listed private address included)', async () => {
    for (const callback of ['https://hooks.example.com/k?token=1', 'http://10.0.0.5:8080/k']) {
      const answer = await submitWith(ON, callback, { Accept: V4 })
      expect(answer.status).toBe(200)
      expect(answer.json.data).toMatchObject({ status: 'RUNNING' })
      expect(answer.records.map((r) => r.callbackUrl)).toEqual([callback])
    }
  })

  it('takes no callback_url, or a null one, as none', async () => {
    const answer = await submitWith(undefined, null)
    expect(answer.status).toBe(200)
    expect(answer.records[0]?.callbackUrl).toBeUndefined()
  })

  it('counts callback_url as part of an Idempotency-Key submit: another one answers 409', async () => {
    const deps = makeTestDeps({ webhooks: ON })
    const gateway = createGateway(deps)
    const submit = (callback: string) =>
      gateway.app.request('/kylin/api/async_query', {
        method: 'POST',
        headers: {
          Authorization: ANALYST,
          'Content-Type': 'application/json',
          'Idempotency-Key': 'export-1',
        },
        body: JSON.stringify({ sql: 'select 1', project: 'p', callback_url: callback }),
      })
    const first = await submit('https://hooks.example.com/a')
    const again = await submit('https://hooks.example.com/a')
    const other = await submit('https://hooks.example.com/b')
    await deps.settle()
    expect(first.status).toBe(200)
    const idOf = async (res: Response) =>
      ((await res.json()) as { data: { queryID: string } }).data.queryID
    expect(await idOf(again)).toBe(await idOf(first))
    expect(other.status).toBe(409)
  })
})
