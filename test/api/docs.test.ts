/**
 * GET /docs through app.request(): the page, its init script and its assets, all same-origin and
 * credential-free; only the listed swagger-ui-dist files reach the runtime's asset source.
 */
import { describe, expect, it } from 'vitest'
import { createGateway } from '../../src/app.ts'
import { DOCS_ASSET_FILES, type DocsAssetFile } from '../../src/api/docs.ts'
import { makeTestDeps } from '../support/test-deps.ts'

const ORIGIN = 'http://gateway.test'

function createDocsApp() {
  const asked: DocsAssetFile[] = []
  const { app } = createGateway(makeTestDeps(), {
    docsAssets: async (file) => {
      asked.push(file)
      return new Response(`contents of ${file}`, { headers: { 'Content-Type': 'text/plain' } })
    },
  })
  return { app, asked }
}

describe('GET /docs', () => {
  it('serves a page that loads only same-origin files, under a same-origin CSP', async () => {
    const { app } = createDocsApp()
    const res = await app.request(`${ORIGIN}/docs`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("connect-src 'self'")
    const html = await res.text()
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])
    expect(urls.sort()).toEqual([
      'docs/assets/favicon-32x32.png',
      'docs/assets/swagger-ui-bundle.js',
      'docs/assets/swagger-ui.css',
      'docs/init.js',
    ])
    expect(html).not.toMatch(/https?:|\/\/[a-z]/i)
  })

  it('points Swagger UI at this gateway’s /openapi.json, not the petstore', async () => {
    const { app } = createDocsApp()
    const res = await app.request(`${ORIGIN}/docs/init.js`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    const script = await res.text()
    expect(script).toContain("new URL('openapi.json', document.baseURI)")
    expect(script).toContain('validatorUrl: null')
    expect(script).not.toMatch(/petstore|https?:/i)
  })

  it('passes the listed swagger-ui-dist files to the runtime, and nothing else', async () => {
    const { app, asked } = createDocsApp()
    for (const file of DOCS_ASSET_FILES) {
      const res = await app.request(`${ORIGIN}/docs/assets/${file}`)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe(`contents of ${file}`)
    }
    for (const file of ['index.html', 'swagger-initializer.js', '..%2Fpackage.json', 'x.js']) {
      const res = await app.request(`${ORIGIN}/docs/assets/${file}`)
      expect(res.status, file).toBe(404)
      expect(await res.json()).toMatchObject({ code: '999' })
    }
    expect(asked).toEqual([...DOCS_ASSET_FILES])
  })

  it('without an asset source, says where the document is instead of a broken page', async () => {
    const { app } = createGateway(makeTestDeps())
    const page = await app.request(`${ORIGIN}/docs`)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('<a href="openapi.json">/openapi.json</a>')
    expect(html).not.toContain('<script')
    expect((await app.request(`${ORIGIN}/docs/init.js`)).status).toBe(404)
    expect((await app.request(`${ORIGIN}/docs/assets/swagger-ui.css`)).status).toBe(404)
    expect((await app.request(`${ORIGIN}/openapi.json`)).status).toBe(200)
  })
})
