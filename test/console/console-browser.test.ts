/**
 * The console in a real headless Chromium against the real Node gateway in front of the demo
 * Kylin emulator: sign in, submit, watch the query run and finish, preview, download (the bytes
 * the API serves), delete; a second user sees nothing of the first; nothing is kept in storage
 * or cookies; the page fits 1280 px and 390 px. Writes docs/console.png, the README's picture.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasBrowser, launchChromium } from '../support/chromium.ts'
import { parseConfig } from '../../src/config/config.ts'
import { startNodeGateway, type NodeGateway } from '../../src/runtime/node/gateway.ts'
import { startKylinEmulator, type KylinEmulator } from '../../demo/kylin/server.ts'

const SCREENSHOT = join(import.meta.dirname, '..', '..', 'docs', 'console.png')
const API = '/kylin/api/async_query'
const ANALYST = `Basic ${Buffer.from('ANALYST:ANALYST').toString('base64')}`
// Long enough for a loaded machine; a query's state reaches the page by its event stream or
// the list poll (every 2 s).
const WAIT = { timeout: 20_000 }

// Long enough to be seen RUNNING, with markup and quotes in a column that must show as text.
const SQL =
  "SELECT i AS n, '<img src=x onerror=alert(1)>&\"' || i AS label FROM range(600000) t(i) ORDER BY i"

// The query the README's picture shows.
const PICTURE_SQL =
  'SELECT lstg_format_name, SUM(price) AS gmv, COUNT(*) AS orders\n' +
  'FROM kylin_sales GROUP BY lstg_format_name ORDER BY gmv DESC'

let kylin: KylinEmulator
let gateway: NodeGateway
let linkGateway: NodeGateway
let browser: Browser

beforeAll(async () => {
  if (!hasBrowser) return
  kylin = await startKylinEmulator({ port: 0, ssbScale: 0.002 })
  gateway = await startNodeGateway(
    parseConfig({
      KYLIN_UPSTREAM_URL: kylin.url,
      HOST: '127.0.0.1',
      PORT: '0',
      STORE: 'memory',
      LOG_LEVEL: 'silent',
    }),
  )
  // The same upstream, with signed links on: downloads then go by link.
  linkGateway = await startNodeGateway(
    parseConfig({
      KYLIN_UPSTREAM_URL: kylin.url,
      HOST: '127.0.0.1',
      PORT: '0',
      STORE: 'memory',
      LOG_LEVEL: 'silent',
      LINK_SECRET: 'console-test-link-secret-0123456789abcdef',
    }),
  )
  browser = await launchChromium()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await gateway?.close()
  await linkGateway?.close()
  await kylin?.close()
})

/** A page on the gateway that may reach nothing else and records every problem it meets. */
async function openConsole(context: BrowserContext, target: NodeGateway = gateway) {
  const page = await context.newPage()
  const problems: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      problems.push(`console ${message.type()}: ${message.text()}`)
    }
  })
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('dialog', (dialog) => void dialog.accept())
  await context.route(
    (url) => !url.href.startsWith(`${target.url}/`),
    (route) => route.abort('blockedbyclient'),
  )
  const response = await page.goto(`${target.url}/console`)
  expect(response?.status()).toBe(200)
  return { page, problems }
}

async function signIn(page: Page, user: string, password: string) {
  await page.locator('#user').fill(user)
  await page.locator('#password').fill(password)
  await page.locator('#sign-in-button').click()
  await page.locator('#workspace').waitFor({ state: 'visible' })
  await expect.poll(() => page.locator('#project option').count(), WAIT).toBeGreaterThan(0)
}

async function apiDownload(id: string, format: string, target = gateway): Promise<Buffer> {
  const res = await fetch(`${target.url}${API}/${id}/result_download?format=${format}`, {
    headers: { Authorization: ANALYST },
  })
  expect(res.status).toBe(200)
  return Buffer.from(await res.arrayBuffer())
}

/** No sideways scrolling, and the controls a person needs are on screen. */
async function expectFits(page: Page, width: number) {
  await page.setViewportSize({ width, height: 900 })
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }))
  expect(scrollWidth, `page width at ${width} px`).toBeLessThanOrEqual(innerWidth)
  for (const selector of ['#sql', '#project', '#submit', '#sign-out', '#refresh']) {
    const box = await page.locator(selector).boundingBox()
    expect(box, selector).not.toBeNull()
    expect(box!.x, selector).toBeGreaterThanOrEqual(0)
    expect(box!.x + box!.width, selector).toBeLessThanOrEqual(innerWidth)
  }
  for (const selector of ['.query .download', '.query .delete', '.query .format']) {
    const box = await page.locator(selector).first().boundingBox()
    expect(box, selector).not.toBeNull()
    expect(box!.x + box!.width, selector).toBeLessThanOrEqual(innerWidth)
  }
}

describe.skipIf(!hasBrowser)('the console in Chromium', () => {
  it('signs in, runs a query to the end, previews, downloads and deletes it; a second user sees none of it', async () => {
    const context = await browser.newContext({ locale: 'en-US', acceptDownloads: true })
    const { page, problems } = await openConsole(context)

    await signIn(page, 'ANALYST', 'ANALYST')
    expect(await page.locator('#who').innerText()).toContain('ANALYST')
    expect(await page.locator('#project option').allTextContents()).toEqual(
      expect.arrayContaining(['learn_kylin', 'ssb']),
    )
    await page.locator('#project').selectOption('learn_kylin')
    await page.locator('#sql').fill(SQL)
    await page.locator('#submit').click()

    // Listed at once, RUNNING with its two progress bars, then SUCCESSFUL with its counts.
    const card = page.locator('li.query').first()
    await card.waitFor()
    const id = (await card.getAttribute('data-id'))!
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    const seen = await card.evaluate(
      (node) =>
        new Promise<string[]>((resolve) => {
          const states = [node.getAttribute('data-status') ?? '']
          const bars = node.querySelectorAll('progress').length
          if (bars === 2) states.push('bars')
          if (states[0] !== 'RUNNING') return resolve(states)
          // The card is rebuilt when its status changes; watch the list for the new one.
          const list = node.parentElement!
          const observer = new MutationObserver(() => {
            const now = list.querySelector(`li[data-id="${node.getAttribute('data-id')}"]`)
            const status = now?.getAttribute('data-status')
            if (status && status !== 'RUNNING') {
              observer.disconnect()
              resolve([...states, status])
            }
          })
          observer.observe(list, { childList: true, subtree: true, attributes: true })
        }),
    )
    expect(seen).toEqual(['RUNNING', 'bars', 'SUCCESSFUL'])
    const done = page.locator(`li.query[data-id="${id}"]`)
    await expect.poll(() => done.getAttribute('data-status'), WAIT).toBe('SUCCESSFUL')
    expect(await done.locator('.facts').innerText()).toContain('600,000')
    expect(await done.locator('.status').innerText()).toBe('SUCCESSFUL')

    // Preview: the first 100 rows, markup shown as text and never made into elements.
    const previewed: string[] = []
    page.on('request', (request) => {
      if (request.url().includes(`/${id}/result`)) previewed.push(request.url())
    })
    await done.locator('.preview').click()
    await expect.poll(() => page.locator('#preview-table tbody tr').count(), WAIT).toBe(100)
    expect(await page.locator('#preview-table thead th').allTextContents()).toEqual(['N', 'LABEL'])
    expect(await page.locator('#preview-table tbody tr').first().innerText()).toBe(
      '0\t<img src=x onerror=alert(1)>&"0',
    )
    expect(await page.locator('#preview-table img').count()).toBe(0)
    expect(previewed).toHaveLength(1)

    // Downloads: the very bytes the API serves, in several formats.
    for (const format of ['csv', 'json', 'parquet']) {
      await done.locator('.format').selectOption(format)
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        done.locator('.download').click(),
      ])
      // Links are off here: the page fetched the bytes with the credentials and saved a blob.
      expect(download.url()).toMatch(/^blob:/)
      expect(download.suggestedFilename()).toMatch(new RegExp(`\\.${format}$`))
      const saved = await readFile((await download.path())!)
      expect(saved.equals(await apiDownload(id, format)), format).toBe(true)
    }

    // Screenshots at a desktop's and a phone's width, with a finished query and its preview.
    await page.locator('#sql').fill(PICTURE_SQL)
    await page.locator('#submit').click()
    await expect.poll(() => page.locator('li.query').count(), WAIT).toBe(2)
    const pictured = page.locator('li.query').first()
    await expect.poll(() => pictured.getAttribute('data-status'), WAIT).toBe('SUCCESSFUL')
    await pictured.locator('.preview').click()
    await expect.poll(() => page.locator('#preview-table tbody tr').count(), WAIT).toBe(5)
    await expectFits(page, 1280)
    await writeFile(SCREENSHOT, await page.screenshot({ fullPage: true }))
    await expectFits(page, 390)
    await page.setViewportSize({ width: 1280, height: 900 })

    // Nothing of the session is kept anywhere but the page's memory.
    expect(
      await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]),
    ).toEqual([0, 0, ''])
    expect(await context.cookies()).toEqual([])

    // Another user, after signing out: none of the first one's queries, in the list or the page.
    await page.locator('#sign-out').click()
    await page.locator('#sign-in').waitFor({ state: 'visible' })
    expect(await page.content()).not.toContain(id)
    await signIn(page, 'MODELER', 'MODELER')
    await page.locator('#list-empty').waitFor({ state: 'visible' })
    expect(await page.locator('li.query').count()).toBe(0)
    expect(await page.content()).not.toContain(id)
    await page.locator('#sign-out').click()

    // An admin's list holds everyone's queries, each marked with its owner.
    await signIn(page, 'ADMIN', 'KYLIN')
    const listed = page.locator(`li.query[data-id="${id}"]`)
    await listed.waitFor()
    expect(await listed.locator('.owner').innerText()).toBe('ANALYST')
    await page.locator('#sign-out').click()

    // Back as the first user: delete, and the query is gone from the page and the API.
    await signIn(page, 'ANALYST', 'ANALYST')
    await page.locator(`li.query[data-id="${id}"] .delete`).click()
    await expect.poll(() => page.locator(`li.query[data-id="${id}"]`).count(), WAIT).toBe(0)
    const status = await fetch(`${gateway.url}${API}/${id}/status`, {
      headers: { Authorization: ANALYST },
    })
    expect(((await status.json()) as { data: { status: string } }).data.status).toBe('MISSING')

    expect(problems).toEqual([])
    await context.close()
  }, 120_000)

  it('stops a running query, shows a failure as text, refuses a wrong password, and speaks Chinese to a Chinese browser', async () => {
    const context = await browser.newContext({ locale: 'zh-CN' })
    const { page, problems } = await openConsole(context)
    expect(await page.locator('#sign-in-button').innerText()).toBe('登录')

    await page.locator('#user').fill('ANALYST')
    await page.locator('#password').fill('wrong')
    await page.locator('#sign-in-button').click()
    await expect.poll(() => page.locator('#sign-in-error').innerText(), WAIT).not.toBe('')
    expect(await page.locator('#workspace').isHidden()).toBe(true)

    await signIn(page, 'ANALYST', 'ANALYST')
    await page.locator('#sql').fill('SELECT i FROM range(1000000000) t(i)')
    await page.locator('#submit').click()
    const card = page.locator('li.query[data-status="RUNNING"]').first()
    await card.waitFor()
    expect(await card.locator('.stop').innerText()).toBe('停止')
    const id = (await card.getAttribute('data-id'))!
    // Its counts move while it runs (live events, then the list).
    const counted = async () =>
      Number((await card.locator('.progress span').first().innerText()).replace(/\D/g, ''))
    await expect.poll(counted, WAIT).toBeGreaterThan(0)
    await card.locator('.stop').click()
    const stopped = page.locator(`li.query[data-id="${id}"]`)
    await expect.poll(() => stopped.getAttribute('data-status'), WAIT).toBe('FAILED')
    await expect.poll(() => stopped.locator('.info').innerText(), WAIT).not.toBe('')
    expect(await stopped.locator('.status').innerText()).toBe('失败')

    // Kylin's message of a failed query, markup and all, is shown as text.
    await page.locator('#sql').fill('SELECT * FROM "<img src=x>"')
    await page.locator('#submit').click()
    await expect.poll(() => page.locator('li.query').count(), WAIT).toBe(2)
    const failed = page.locator('li.query').first()
    await expect.poll(() => failed.getAttribute('data-status'), WAIT).toBe('FAILED')
    await expect.poll(() => failed.locator('.info').innerText(), WAIT).toContain('<img src=x>')
    expect(await page.locator('#query-list img').count()).toBe(0)
    expect(problems.filter((p) => !p.includes('401'))).toEqual([])
    await context.close()
  }, 60_000)

  it('never shows an answer for the previous user that arrives after someone else signs in', async () => {
    const submitted = await fetch(`${gateway.url}${API}`, {
      method: 'POST',
      headers: { Authorization: ANALYST, 'Content-Type': 'application/json' },
      body: JSON.stringify({ sql: 'SELECT 1 AS one', project: 'learn_kylin' }),
    })
    const id = ((await submitted.json()) as { data: { queryID: string } }).data.queryID
    const context = await browser.newContext({ locale: 'en-US' })
    const { page, problems } = await openConsole(context)
    // The first user's list is held on its way until the second user is signed in.
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let heldList = false
    await context.route(
      (url) => url.pathname === API && url.searchParams.get('limit') === '50',
      async (route) => {
        if (route.request().headers().authorization === ANALYST) {
          heldList = true
          await held
        }
        await route.continue().catch(() => {})
      },
    )
    await signIn(page, 'ANALYST', 'ANALYST')
    await expect.poll(() => heldList, WAIT).toBe(true)
    await page.locator('#sign-out').click()
    await signIn(page, 'MODELER', 'MODELER')
    await page.locator('#list-empty').waitFor({ state: 'visible' })
    release()
    await page.waitForTimeout(500)
    expect(await page.locator('li.query').count()).toBe(0)
    expect(await page.content()).not.toContain(id)
    expect(await page.locator('#who').innerText()).toContain('MODELER')
    expect(problems).toEqual([])
    await context.close()
  }, 60_000)

  it('downloads by signed link when the gateway makes them, with no credentials on the download', async () => {
    const submitted = await fetch(`${linkGateway.url}${API}`, {
      method: 'POST',
      headers: { Authorization: ANALYST, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        sql: 'SELECT trans_id, part_dt FROM kylin_sales ORDER BY trans_id LIMIT 20',
        project: 'learn_kylin',
      }),
    })
    const id = ((await submitted.json()) as { data: { queryID: string } }).data.queryID
    const context = await browser.newContext({ locale: 'en-US', acceptDownloads: true })
    const { page, problems } = await openConsole(context, linkGateway)
    await signIn(page, 'ANALYST', 'ANALYST')
    const card = page.locator(`li.query[data-id="${id}"][data-status="SUCCESSFUL"]`)
    await card.waitFor({ timeout: 20_000 })
    for (const format of ['ndjson', 'xlsx', 'arrow']) {
      await card.locator('.format').selectOption(format)
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        card.locator('.download').click(),
      ])
      const saved = await readFile((await download.path())!)
      expect(saved.equals(await apiDownload(id, format, linkGateway)), format).toBe(true)
      // The browser fetched the signed link itself: a plain navigation, without the credentials.
      expect(download.url()).toContain(`${linkGateway.url}${API}/link/${id}/`)
      expect(download.url()).toContain(`format=${format}`)
      // An Arrow IPC stream is named .arrows.
      expect(download.suggestedFilename()).toMatch(new RegExp(`\\.${format}s?$`))
    }
    expect(problems).toEqual([])
    await context.close()
  }, 60_000)
})
