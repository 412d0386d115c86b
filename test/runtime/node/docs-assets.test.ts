/**
 * swagger-ui-dist's files as the Node runtime serves them: bytes of the installed package, their
 * content types, a validator and caching, gzip on request, and HEAD without a body.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { DOCS_ASSET_FILES } from '../../../src/api/docs.ts'
import { createNodeDocsAssets, findSwaggerUiDist } from '../../../src/runtime/node/docs-assets.ts'

const dir = findSwaggerUiDist()
const assets = createNodeDocsAssets(dir ?? '')
const request = (headers: Record<string, string> = {}, method = 'GET') =>
  new Request('http://gateway.test/docs/assets/x', { method, headers })

describe('Node docs assets', () => {
  it('finds the installed swagger-ui-dist', async () => {
    expect(dir).not.toBeNull()
    const pkg = JSON.parse(await readFile(join(dir!, 'package.json'), 'utf8')) as { name: string }
    expect(pkg.name).toBe('swagger-ui-dist')
  })

  it.each([
    ['swagger-ui.css', 'text/css; charset=utf-8'],
    ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
    ['favicon-32x32.png', 'image/png'],
  ] as const)('streams %s as %s, cacheable, with its length', async (file, type) => {
    const res = await assets(file, request())
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe(type)
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/)
    const expected = await readFile(join(dir!, file))
    expect(res.headers.get('content-length')).toBe(String(expected.length))
    expect(Buffer.from(await res.arrayBuffer()).equals(expected)).toBe(true)
  })

  it('answers 304 to a matching If-None-Match, 200 to a stale one', async () => {
    const first = await assets('swagger-ui.css', request())
    await first.body?.cancel()
    const etag = first.headers.get('etag')!
    const again = await assets('swagger-ui.css', request({ 'If-None-Match': `W/${etag}` }))
    expect(again.status).toBe(304)
    expect(again.body).toBeNull()
    const stale = await assets('swagger-ui.css', request({ 'If-None-Match': '"other"' }))
    expect(stale.status).toBe(200)
    await stale.body?.cancel()
  })

  it('gzips text for clients that accept it, under its own ETag', async () => {
    const plain = await assets('swagger-ui-bundle.js', request())
    await plain.body?.cancel()
    const res = await assets('swagger-ui-bundle.js', request({ 'Accept-Encoding': 'br, gzip' }))
    expect(res.headers.get('content-encoding')).toBe('gzip')
    expect(res.headers.get('content-length')).toBeNull()
    expect(res.headers.get('vary')).toBe('Accept-Encoding')
    expect(res.headers.get('etag')).not.toBe(plain.headers.get('etag'))
    const zipped = Buffer.from(await res.arrayBuffer())
    const expected = await readFile(join(dir!, 'swagger-ui-bundle.js'))
    expect(zipped.length).toBeLessThan(expected.length / 2)
    expect(gunzipSync(zipped).equals(expected)).toBe(true)
    const png = await assets('favicon-32x32.png', request({ 'Accept-Encoding': 'gzip' }))
    expect(png.headers.get('content-encoding')).toBeNull()
    await png.body?.cancel()
  })

  it('answers HEAD with the headers only', async () => {
    for (const file of DOCS_ASSET_FILES) {
      const res = await assets(file, request({}, 'HEAD'))
      expect(res.status).toBe(200)
      expect(res.body).toBeNull()
      expect(Number(res.headers.get('content-length'))).toBeGreaterThan(0)
    }
  })
})
