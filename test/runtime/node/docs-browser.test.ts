/**
 * /docs in a real headless Chromium against the real Node gateway on a loopback port: Swagger UI
 * renders every operation of /openapi.json, asks nothing of any other host, and logs no errors.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasBrowser, launchChromium } from '../../support/chromium.ts'
import { parseConfig } from '../../../src/config/config.ts'
import { getOpenApiDocument } from '../../../src/api/openapi.ts'
import { startNodeGateway, type NodeGateway } from '../../../src/runtime/node/gateway.ts'
import { startFakeKylin, type FakeKylin } from '../../support/fake-kylin.ts'

let kylin: FakeKylin
let gateway: NodeGateway
let browser: Browser

beforeAll(async () => {
  if (!hasBrowser) return
  kylin = await startFakeKylin()
  gateway = await startNodeGateway(
    parseConfig({
      KYLIN_UPSTREAM_URL: kylin.url,
      HOST: '127.0.0.1',
      PORT: '0',
      STORE: 'memory',
      LOG_LEVEL: 'silent',
    }),
  )
  browser = await launchChromium()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await gateway?.close()
  await kylin?.close()
})

describe.skipIf(!hasBrowser)('the /docs page in Chromium', () => {
  it('renders every operation from the gateway alone, without console errors', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    const requests: string[] = []
    const failed: string[] = []
    const problems: string[] = []
    page.on('request', (request) => requests.push(request.url()))
    page.on('requestfailed', (request) => failed.push(request.url()))
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`)
    })
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        problems.push(`console ${message.type()}: ${message.text()}`)
      }
    })
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    // Anything bound elsewhere is refused before it leaves the browser, and recorded above.
    await context.route(
      (url) => !url.href.startsWith(`${gateway.url}/`),
      (route) => route.abort('blockedbyclient'),
    )

    const response = await page.goto(`${gateway.url}/docs`)
    expect(response?.status()).toBe(200)

    const submit = page.locator('.opblock-summary', { hasText: 'Submit a query' })
    await submit.waitFor({ state: 'visible', timeout: 30_000 })
    await expect.poll(() => submit.isVisible()).toBe(true)
    const document = getOpenApiDocument()
    const operations = Object.values(document.paths).flatMap((item) => Object.keys(item))
    await expect.poll(() => page.locator('.opblock').count()).toBe(operations.length)
    expect(await page.locator('.info .title').innerText()).toContain(document.info.title)

    // Expanding an operation shows its parameters, from the same document.
    await submit.click()
    await page.getByText('Idempotency-Key', { exact: true }).first().waitFor()

    expect(requests.length).toBeGreaterThan(0)
    expect(requests.filter((url) => !url.startsWith(`${gateway.url}/`))).toEqual([])
    expect(requests).toEqual(
      expect.arrayContaining([
        `${gateway.url}/docs`,
        `${gateway.url}/docs/assets/swagger-ui-bundle.js`,
        `${gateway.url}/docs/assets/swagger-ui.css`,
        `${gateway.url}/docs/init.js`,
        `${gateway.url}/openapi.json`,
      ]),
    )
    expect(failed).toEqual([])
    expect(problems).toEqual([])
    // Rendering the page asked nothing of Kylin: /docs and /openapi.json need no credentials.
    expect(kylin.requests).toEqual([])
    await context.close()
  }, 60_000)
})
