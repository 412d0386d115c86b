/**
 * /console on Workers: the bundle `wrangler deploy` would upload, in workerd, serves the page and
 * its two files as the Node gateway does, and in Chromium the page starts, signs in against the
 * Worker (its calls carry the credentials; the fake Kylin checks them) and lists the queries.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasBrowser, launchChromium } from '../../support/chromium.ts'
import { CONSOLE_SCRIPT } from '../../../src/console/console-script.ts'
import { CONSOLE_STYLES } from '../../../src/console/console-styles.ts'
import { BASIC, startFakeKylin, type FakeKylin } from '../../support/fake-kylin.ts'
import { buildWorker, toWorkerOptions } from '../../support/worker-build.ts'

// Long enough for a loaded machine; a query's state reaches the page by its event stream or
// the list poll (every 2 s).
const WAIT = { timeout: 20_000 }

let mf: Miniflare
let kylin: FakeKylin
let url: string
let outdir: string

beforeAll(async () => {
  kylin = await startFakeKylin()
  outdir = await mkdtemp(join(tmpdir(), 'worker-console-'))
  const scriptPath = await buildWorker(outdir)
  mf = new Miniflare(
    toWorkerOptions(scriptPath, { KYLIN_UPSTREAM_URL: kylin.url, LOG_LEVEL: 'warn' }),
  )
  url = (await mf.ready).toString().replace(/\/$/, '')
}, 60_000)

afterAll(async () => {
  await mf?.dispose()
  await kylin?.close()
  if (outdir) await rm(outdir, { recursive: true, force: true })
})

describe('/console on Workers', () => {
  it('serves the page with its security headers, links marked off without LINK_SECRET', async () => {
    const res = await fetch(`${url}/console`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    const page = await res.text()
    expect(page).toContain('<body data-links="off">')
    expect(page).toContain('<script type="module" src="console/app.js"></script>')
  })

  it('serves the very script and styles the Node gateway serves', async () => {
    const script = await fetch(`${url}/console/app.js`)
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(await script.text()).toBe(CONSOLE_SCRIPT)
    const styles = await fetch(`${url}/console/app.css`)
    expect(styles.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expect(await styles.text()).toBe(CONSOLE_STYLES)
  })

  it.skipIf(!hasBrowser)(
    'starts in Chromium and signs in against the Worker',
    async () => {
      const id = await submitQuery()
      const browser = await launchChromium()
      try {
        const page = await browser.newPage({ locale: 'en-US' })
        const problems: string[] = []
        page.on('console', (message) => {
          if (message.type() === 'error') problems.push(message.text())
        })
        page.on('pageerror', (error) => problems.push(error.message))
        await page.goto(`${url}/console`)
        expect(await page.locator('#sign-in-button').innerText()).toBe('Sign in')
        await page.locator('#user').fill('ADMIN')
        await page.locator('#password').fill('KYLIN')
        await page.locator('#sign-in-button').click()
        await page.locator('#workspace').waitFor({ state: 'visible' })
        const card = page.locator(`li.query[data-id="${id}"]`)
        await card.waitFor({ timeout: 20_000 })
        await expect
          .poll(() => card.getAttribute('data-status'), { timeout: 20_000 })
          .toBe('SUCCESSFUL')
        await card.locator('.preview').click()
        await expect.poll(() => page.locator('#preview-table tbody tr').count(), WAIT).toBe(100)
        expect(problems).toEqual([])
      } finally {
        await browser.close()
      }
    },
    60_000,
  )
})

async function submitQuery(): Promise<string> {
  const res = await fetch(`${url}/kylin/api/async_query`, {
    method: 'POST',
    headers: { Authorization: BASIC.ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql: 'select * from rows_500', project: 'learn_kylin' }),
  })
  return ((await res.json()) as { data: { queryID: string } }).data.queryID
}
