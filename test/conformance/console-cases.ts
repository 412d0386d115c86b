/**
 * Conformance cases of the web console (`/console`), run on every target: the page and its two
 * files are served from the one app without credentials and under a strict policy, and the
 * bounded preview the page asks for (a prefix of the result as ndjson) reads as whole rows.
 */
import { expect, it } from 'vitest'
import { toGeneratedRow } from '../support/fake-kylin.ts'
import type { ConformanceContext } from './suite.ts'

const PREVIEW_ROWS = 100

/** The first `count` whole lines of a body, read no further than needed. */
async function readLines(body: ReadableStream<Uint8Array>, count: number): Promise<string[]> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  const lines: string[] = []
  let buffer = ''
  try {
    while (lines.length < count) {
      const { done, value } = await reader.read()
      if (done) break
      buffer += decoder.decode(value, { stream: true })
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        lines.push(buffer.slice(0, end))
        buffer = buffer.slice(end + 1)
      }
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
  return lines.slice(0, count)
}

export function addConsoleCases({ target, submit, waitForEnd }: ConformanceContext): void {
  it('console: serves the page without credentials, under a strict policy, asking Kylin nothing', async () => {
    const before = target().kylin.requests.length
    const res = await fetch(`${target().url}/console`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const policy = res.headers.get('content-security-policy') ?? ''
    expect(policy).toContain("default-src 'none'")
    expect(policy).toContain("script-src 'self'")
    expect(policy).toContain("frame-ancestors 'none'")
    expect(policy).toContain("form-action 'none'")
    expect(policy).not.toContain('unsafe-inline')
    expect(policy).not.toContain('unsafe-eval')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('set-cookie')).toBeNull()
    const page = await res.text()
    // Every script is a file of its own: the policy allows no inline one.
    const scripts = [...page.matchAll(/<script\b[^>]*>/g)].map((match) => match[0])
    expect(scripts).toEqual(['<script type="module" src="console/app.js">'])
    expect(page).not.toMatch(/\son[a-z]+=/i)
    expect(page).not.toContain('style=')
    expect(target().kylin.requests.length).toBe(before)
  })

  it.each([
    ['app.js', 'text/javascript; charset=utf-8'],
    ['app.css', 'text/css; charset=utf-8'],
  ])('console: serves %s with its type and the same policy', async (file, type) => {
    const res = await fetch(`${target().url}/console/${file}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe(type)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect((await res.text()).length).toBeGreaterThan(1000)
  })

  it('console: serves nothing else under /console', async () => {
    for (const path of ['/console/', '/console/index.html', '/console/app.js.map']) {
      const res = await fetch(`${target().url}${path}`)
      expect(res.status, path).toBe(404)
      await res.body?.cancel()
    }
  })

  it("console: the preview's bounded ndjson prefix reads as the result's first whole rows", async () => {
    const id = await submit({ sql: 'select * from rows_5000' })
    expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
    const res = await fetch(
      `${target().url}/kylin/api/async_query/${id}/result?format=ndjson&encode=utf-8`,
      {
        headers: {
          Authorization: `Basic ${btoa('ADMIN:KYLIN')}`,
          Accept: '*/*',
          Range: `bytes=0-${(1 << 20) - 1}`,
        },
      },
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/x-ndjson')
    const lines = await readLines(res.body!, PREVIEW_ROWS)
    expect(lines).toHaveLength(PREVIEW_ROWS)
    lines.forEach((line, i) => {
      const row = JSON.parse(line) as Record<string, unknown>
      const [id, name] = toGeneratedRow(i + 1)
      expect(Object.keys(row)).toEqual(['ID', 'NAME', 'PRICE'])
      expect([String(row.ID), row.NAME]).toEqual([id, name])
    })
  })
}
