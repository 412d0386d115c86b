/**
 * Headless Chromium for the page tests (/docs, /console): Debian's /usr/bin/chromium driven by
 * playwright-core. CI installs it (.ci/run); elsewhere the tests run wherever it is installed.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

/** In CI a missing browser fails the tests rather than skipping them. */
export const hasBrowser = existsSync(CHROMIUM) || Boolean(process.env.CI)

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  })
}
