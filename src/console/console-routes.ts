/**
 * The web console at GET /console: one static page, its module script and its style sheet, served
 * without credentials (the page asks for them and sends them with each API call). Portable.
 */
import { Hono } from 'hono'
import type { AppEnv } from '../api/app-env.ts'
import { toConsolePage, type ConsolePageOptions } from './console-page.ts'
import { CONSOLE_SCRIPT } from './console-script.ts'
import { CONSOLE_STYLES } from './console-styles.ts'

/** Where the console lives; its script and styles sit under it. */
const CONSOLE_PATH = '/console'

/**
 * Same origin only, no inline script or style, no frames, no form posts: the page's own script
 * is the only code that runs, and the page itself cannot be framed or post a form anywhere.
 */
const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** Every answer of the console carries these. */
const CONSOLE_SECURITY_HEADERS = {
  'Content-Security-Policy': CONSOLE_CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  // The files change with the gateway's version; revalidating them costs one small request.
  'Cache-Control': 'no-cache',
}

export function createConsoleRoutes(options: ConsolePageOptions) {
  const app = new Hono<AppEnv>()
  const page = toConsolePage(options)
  const send = (body: string, type: string) =>
    new Response(body, {
      status: 200,
      headers: { ...CONSOLE_SECURITY_HEADERS, 'Content-Type': type },
    })
  app.get(CONSOLE_PATH, () => send(page, 'text/html; charset=utf-8'))
  app.get(`${CONSOLE_PATH}/app.js`, () => send(CONSOLE_SCRIPT, 'text/javascript; charset=utf-8'))
  app.get(`${CONSOLE_PATH}/app.css`, () => send(CONSOLE_STYLES, 'text/css; charset=utf-8'))
  return app
}
