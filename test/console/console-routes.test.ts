/**
 * The console's routes through the app (app.request): the page, script and styles with their
 * headers; the page says whether links are on; the script parses, speaks both languages in full
 * and never turns text into markup.
 */
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { CONSOLE_SCRIPT } from '../../src/console/console-script.ts'
import { CONSOLE_TEXTS } from '../../src/console/console-texts.ts'
import { makeTestDeps } from '../support/test-deps.ts'

describe('console routes', () => {
  it('serves the page, its script and its styles without credentials', async () => {
    const app = createApp(makeTestDeps())
    for (const [path, type] of [
      ['/console', 'text/html; charset=utf-8'],
      ['/console/app.js', 'text/javascript; charset=utf-8'],
      ['/console/app.css', 'text/css; charset=utf-8'],
    ]) {
      const res = await app.request(path!)
      expect(res.status, path).toBe(200)
      expect(res.headers.get('content-type'), path).toBe(type)
      expect(res.headers.get('content-security-policy'), path).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
          "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      )
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer')
      expect(res.headers.get('x-frame-options'), path).toBe('DENY')
      expect(res.headers.get('set-cookie'), path).toBeNull()
    }
  })

  it('marks links on only when LINK_SECRET is set', async () => {
    const off = createApp(makeTestDeps())
    expect(await (await off.request('/console')).text()).toContain('<body data-links="off">')
    const on = createApp(
      makeTestDeps({
        links: {
          credentials: { secret: 'a-secret-long-enough-for-links-0123456789' },
          maxTtlSeconds: 3600,
        },
      }),
    )
    expect(await (await on.request('/console')).text()).toContain('<body data-links="on">')
  })

  it('ships a script that parses and sets text, never markup', () => {
    expect(() => new Function(CONSOLE_SCRIPT)).not.toThrow()
    for (const sink of [
      'innerHTML',
      'outerHTML',
      'insertAdjacentHTML',
      'document.write',
      'eval(',
    ]) {
      expect(CONSOLE_SCRIPT, sink).not.toContain(sink)
    }
    for (const store of ['localStorage', 'sessionStorage', 'document.cookie', 'indexedDB']) {
      expect(CONSOLE_SCRIPT, store).not.toContain(store)
    }
    expect(CONSOLE_SCRIPT).toContain("credentials: 'omit'")
  })

  it('has every text in English and Chinese', () => {
    const keys = Object.keys(CONSOLE_TEXTS.en).sort()
    expect(Object.keys(CONSOLE_TEXTS.cn).sort()).toEqual(keys)
    for (const language of ['en', 'cn'] as const) {
      for (const key of keys) {
        const value = CONSOLE_TEXTS[language][key as keyof typeof CONSOLE_TEXTS.en]
        expect(value, `${language}.${key}`).not.toBe('')
        expect(value.split('%s').length, `${language}.${key}`).toBe(
          CONSOLE_TEXTS.en[key as keyof typeof CONSOLE_TEXTS.en].split('%s').length,
        )
      }
    }
  })
})
