/** Settings of signed links and PUBLIC_URL: parsed, checked, and never echoed when wrong. */
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import { formatHelp } from '../../src/config/help.ts'

const base = { KYLIN_UPSTREAM_URL: 'http://kylin:7070' }
const SECRET = 'current-link-secret-of-enough-length-0123'
const OLD_SECRET = 'previous-link-secret-of-enough-length-456'

function configError(vars: Record<string, string>): string {
  try {
    parseConfig({ ...base, ...vars })
  } catch (error) {
    return (error as Error).message
  }
  throw new Error('expected a ConfigError')
}

describe('link settings', () => {
  it('leaves links off without LINK_SECRET', () => {
    const config = parseConfig(base)
    expect(config.links).toBeUndefined()
    expect(config.publicUrl).toBeUndefined()
  })

  it('keeps both keys under credentials and the longest ttl in seconds', () => {
    const config = parseConfig({
      ...base,
      LINK_SECRET: SECRET,
      LINK_SECRET_PREVIOUS: OLD_SECRET,
      LINK_MAX_TTL: '2d',
    })
    expect(config.links).toEqual({
      credentials: { secret: SECRET, previousSecret: OLD_SECRET },
      maxTtlSeconds: 2 * 86_400,
    })
    expect(parseConfig({ ...base, LINK_SECRET: SECRET }).links).toEqual({
      credentials: { secret: SECRET },
      maxTtlSeconds: 7 * 86_400,
    })
  })

  it('refuses a short secret without echoing it', () => {
    const message = configError({ LINK_SECRET: 'short-secret-value' })
    expect(message).toMatch(/^LINK_SECRET \(--link-secret\) has a bad value: must be at least 32/)
    expect(message).not.toContain('short-secret-value')
    const previous = configError({ LINK_SECRET: SECRET, LINK_SECRET_PREVIOUS: 'old-short' })
    expect(previous).toMatch(/^LINK_SECRET_PREVIOUS/)
    expect(previous).not.toContain('old-short')
  })

  it('refuses a previous secret alone, or the same as the current one', () => {
    expect(configError({ LINK_SECRET_PREVIOUS: OLD_SECRET })).toMatch(
      /LINK_SECRET_PREVIOUS .* without LINK_SECRET/,
    )
    const same = configError({ LINK_SECRET: SECRET, LINK_SECRET_PREVIOUS: SECRET })
    expect(same).toMatch(/is the same as LINK_SECRET/)
    expect(same).not.toContain(SECRET)
  })

  it('bounds LINK_MAX_TTL', () => {
    expect(configError({ LINK_SECRET: SECRET, LINK_MAX_TTL: '500ms' })).toMatch(
      /LINK_MAX_TTL .* at least 1s/,
    )
    expect(configError({ LINK_SECRET: SECRET, LINK_MAX_TTL: '400d' })).toMatch(
      /LINK_MAX_TTL .* at most 366d/,
    )
    expect(configError({ LINK_SECRET: SECRET, LINK_MAX_TTL: 'a week' })).toMatch(
      /LINK_MAX_TTL .* duration/,
    )
  })

  it('takes PUBLIC_URL as a base URL without its trailing slash', () => {
    expect(parseConfig({ ...base, PUBLIC_URL: 'https://kylin.example.com/gw/' }).publicUrl).toBe(
      'https://kylin.example.com/gw',
    )
    for (const bad of [
      'kylin.example.com',
      'ftp://x.example',
      'https://u:p@x.example',
      'https://x.example/?a=1',
    ]) {
      expect(configError({ PUBLIC_URL: bad }), bad).toMatch(/^PUBLIC_URL \(--public-url\)/)
    }
  })

  it('lists the settings in --help', () => {
    const help = formatHelp('gateway')
    for (const flag of [
      '--link-secret ',
      '--link-secret-previous',
      '--link-max-ttl',
      '--public-url',
    ]) {
      expect(help).toContain(flag)
    }
  })
})
