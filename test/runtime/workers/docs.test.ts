/**
 * /docs on Workers: the bundle `wrangler deploy` would upload, in workerd with wrangler.toml's
 * `[assets]`, serves the page and its three swagger-ui-dist files, and nothing else of the package.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findSwaggerUiDist } from '../../../src/runtime/node/docs-assets.ts'
import { buildWorker, toWorkerOptions } from '../../support/worker-build.ts'

const ROOT = join(import.meta.dirname, '..', '..', '..')
const swaggerUiDist = findSwaggerUiDist()!

let mf: Miniflare
let url: string
let outdir: string

beforeAll(async () => {
  outdir = await mkdtemp(join(tmpdir(), 'worker-docs-'))
  const scriptPath = await buildWorker(outdir)
  mf = new Miniflare({
    ...toWorkerOptions(scriptPath, {
      KYLIN_UPSTREAM_URL: 'http://127.0.0.1:9',
      LOG_LEVEL: 'warn',
    }),
    // As wrangler.toml declares it: the Worker runs first and reaches the files by binding.
    assets: {
      directory: swaggerUiDist,
      binding: 'ASSETS',
      routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: true },
    },
  })
  url = (await mf.ready).toString().replace(/\/$/, '')
}, 60_000)

afterAll(async () => {
  await mf?.dispose()
  if (outdir) await rm(outdir, { recursive: true, force: true })
})

describe('/docs on Workers', () => {
  it('wrangler.toml binds swagger-ui-dist as ASSETS behind the Worker', async () => {
    const toml = await readFile(join(ROOT, 'wrangler.toml'), 'utf8')
    const section = /^\[assets\]\n((?:[^[\n].*\n?)*)/m.exec(toml)?.[1] ?? ''
    expect(section).toMatch(/^directory = "\.\/node_modules\/swagger-ui-dist"$/m)
    expect(section).toMatch(/^binding = "ASSETS"$/m)
    expect(section).toMatch(/^run_worker_first = true$/m)
  })

  it('serves the page, the init script and /openapi.json', async () => {
    const page = await fetch(`${url}/docs`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<script src="docs/assets/swagger-ui-bundle.js"></script>')
    expect((await fetch(`${url}/docs/init.js`)).status).toBe(200)
    const document = await fetch(`${url}/openapi.json`)
    expect(document.status).toBe(200)
    expect(await document.json()).toMatchObject({ openapi: '3.1.0' })
  })

  it.each([
    ['swagger-ui.css', 'text/css'],
    ['swagger-ui-bundle.js', 'javascript'],
    ['favicon-32x32.png', 'image/png'],
  ])('serves %s from the package with its content type', async (file, type) => {
    const res = await fetch(`${url}/docs/assets/${file}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain(type)
    expect(res.headers.get('etag')).toBeTruthy()
    const expected = await readFile(join(swaggerUiDist, file))
    expect(Buffer.from(await res.arrayBuffer()).equals(expected)).toBe(true)
  })

  it.each(['/', '/index.html', '/swagger-initializer.js', '/docs/assets/index.html'])(
    'does not serve the package’s own %s',
    async (path) => {
      const res = await fetch(`${url}${path}`)
      expect(res.status).toBe(404)
      expect(await res.text()).not.toContain('petstore')
    },
  )
})
