/**
 * Who may call the emulator: Basic auth for ADMIN:KYLIN and the non-admin users, the
 * JSESSIONID session, 401 otherwise; the identity shape the gateway parses; the project list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKylinClient } from '../../src/upstream/client.ts'
import { startKylinEmulator, type KylinEmulator } from '../../demo/kylin/server.ts'

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

let kylin: KylinEmulator

beforeAll(async () => {
  kylin = await startKylinEmulator({ port: 0, ssbScale: 0.001 })
})
afterAll(() => kylin.close())

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${kylin.url}${path}`, { headers })

describe('credentials', () => {
  it('are required on every /kylin/api call: none or wrong answers 401', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: basic('ADMIN', 'wrong') },
      { Authorization: basic('NOBODY', 'KYLIN') },
      { Authorization: 'Bearer x' },
    ]
    for (const headers of attempts) {
      for (const path of ['/kylin/api/projects', '/kylin/api/user/authentication']) {
        const response = await get(path, headers)
        expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401)
      }
    }
    const query = await fetch(`${kylin.url}/kylin/api/query`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sql: 'select 1', project: 'ssb' }),
    })
    expect(query.status).toBe(401)
  })

  it('answers /user/authentication in Kylin 2–4 shape, with a JSESSIONID that works alone', async () => {
    const response = await get('/kylin/api/user/authentication', {
      Authorization: basic('ANALYST', 'ANALYST'),
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      userDetails: {
        password: null,
        username: 'ANALYST',
        authorities: [{ authority: 'ROLE_ANALYST' }],
        accountNonExpired: true,
        accountNonLocked: true,
        credentialsNonExpired: true,
        enabled: true,
      },
    })
    const cookie = /JSESSIONID=[0-9A-F]{32}/.exec(response.headers.get('set-cookie') ?? '')?.[0]
    expect(cookie).toBeDefined()
    expect((await get('/kylin/api/projects', { Cookie: cookie! })).status).toBe(200)
    expect((await get('/kylin/api/projects', { Cookie: 'JSESSIONID=0123' })).status).toBe(401)
  })

  it('tell the gateway who is an admin', async () => {
    const client = createKylinClient({ baseUrl: kylin.url, fetch })
    expect(await client.authenticate({ authorization: basic('ADMIN', 'KYLIN') })).toMatchObject({
      username: 'ADMIN',
      isAdmin: true,
    })
    for (const [user, password] of [
      ['ANALYST', 'ANALYST'],
      ['MODELER', 'MODELER'],
    ] as const) {
      expect(await client.authenticate({ authorization: basic(user, password) })).toMatchObject({
        username: user,
        isAdmin: false,
      })
    }
    expect(await client.authenticate({ authorization: basic('ADMIN', 'nope') })).toBeNull()
  })
})

describe('GET /kylin/api/projects', () => {
  it('lists learn_kylin and ssb with their tables, as Kylin 2–4 ProjectInstances', async () => {
    const response = await get('/kylin/api/projects', { Authorization: basic('ADMIN', 'KYLIN') })
    const projects = (await response.json()) as { name: string; tables: string[]; status: string }[]
    expect(projects.map((p) => p.name)).toEqual(['learn_kylin', 'ssb'])
    expect(projects[0]!.tables).toEqual([
      'DEFAULT.KYLIN_ACCOUNT',
      'DEFAULT.KYLIN_CAL_DT',
      'DEFAULT.KYLIN_CATEGORY_GROUPINGS',
      'DEFAULT.KYLIN_COUNTRY',
      'DEFAULT.KYLIN_SALES',
    ])
    expect(projects[1]!.tables).toEqual(
      expect.arrayContaining([
        'SSB.P_LINEORDER',
        'SSB.CUSTOMER',
        'SSB.DATES',
        'SSB.PART',
        'SSB.SUPPLIER',
      ]),
    )
    expect(projects[0]).toMatchObject({ status: 'ENABLED', owner: 'ADMIN' })
  })
})
