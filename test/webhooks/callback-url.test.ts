/** Where a webhook may go: the allow-list, schemes, userinfo and every form of special address. */
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import type { WebhookSettings } from '../../src/config/webhook-settings.ts'
import { GatewayError } from '../../src/errors.ts'
import { translate } from '../../src/i18n.ts'
import {
  judgeAddress,
  judgeCallbackUrl,
  toAllowedHosts,
  toCallbackUrl,
} from '../../src/webhooks/callback-url.ts'
import { classifyAddress, parseIpv6 } from '../../src/webhooks/ip-address.ts'

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`

function settingsOf(hosts: string): WebhookSettings {
  const config = parseConfig({
    KYLIN_UPSTREAM_URL: 'http://kylin:7070',
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_ALLOWED_HOSTS: hosts,
  })
  return config.webhooks!
}

/** The refusal's message id, or 'allowed'. */
function judge(url: string, hosts: string) {
  const judged = judgeCallbackUrl(url, settingsOf(hosts))
  return 'refusal' in judged ? judged.refusal.message : 'allowed'
}

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['100.127.255.255', 'shared (CGNAT)'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::7f00:1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['2002:7f00:1::1', 'loopback'],
    ['2001:db8::1', 'reserved'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind)
  })

  it.each([
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '93.184.216.34',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ])('%s is public', (address) => {
    expect(classifyAddress(address)).toBeNull()
  })

  it('reads every IPv6 form, and refuses what is not one', () => {
    expect(parseIpv6('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(parseIpv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304])
    expect(parseIpv6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0])
    for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '1.2.3.4', '::1.2.3.256', 'a:b'])
      expect(parseIpv6(bad)).toBeNull()
  })
})

describe('judgeCallbackUrl', () => {
  it('allows a listed host, with or without a port in the list', () => {
    expect(judge('https://hooks.example.com/kylin?token=abc', 'hooks.example.com')).toBe('allowed')
    expect(judge('https://hooks.example.com:8443/k', 'hooks.example.com')).toBe('allowed')
    expect(judge('https://HOOKS.example.com/k', 'hooks.example.com:443')).toBe('allowed')
    expect(judge('http://hooks.example.com/k', 'other.example, hooks.example.com:80')).toBe(
      'allowed',
    )
  })

  it('refuses a host or port outside the list', () => {
    expect(judge('https://evil.example.com/', 'hooks.example.com')).toBe('CALLBACK_URL_NOT_ALLOWED')
    expect(judge('https://hooks.example.com:8443/', 'hooks.example.com:443')).toBe(
      'CALLBACK_URL_NOT_ALLOWED',
    )
    expect(judge('https://hooks.example.com.evil.example/', 'hooks.example.com')).toBe(
      'CALLBACK_URL_NOT_ALLOWED',
    )
    expect(judge('https://sub.hooks.example.com/', 'hooks.example.com')).toBe(
      'CALLBACK_URL_NOT_ALLOWED',
    )
  })

  it('refuses other schemes, userinfo and what is no URL', () => {
    expect(judge('ftp://hooks.example.com/', 'hooks.example.com')).toBe('CALLBACK_URL_SCHEME')
    expect(judge('file:///etc/passwd', 'hooks.example.com')).toBe('CALLBACK_URL_SCHEME')
    expect(judge('https://user:pw@hooks.example.com/', 'hooks.example.com')).toBe(
      'CALLBACK_URL_USERINFO',
    )
    expect(judge('https://user@hooks.example.com/', 'hooks.example.com')).toBe(
      'CALLBACK_URL_USERINFO',
    )
    expect(judge('hooks.example.com/x', 'hooks.example.com')).toBe('CALLBACK_URL_INVALID')
    expect(judge(`https://hooks.example.com/${'a'.repeat(2100)}`, 'hooks.example.com')).toBe(
      'CALLBACK_URL_INVALID',
    )
  })

  it.each([
    'http://127.0.0.1:9000/',
    'http://2130706433:9000/',
    'http://0x7f.1:9000/',
    'http://0x7f000001:9000/',
    'http://017700000001:9000/',
    'http://127.1:9000/',
    'http://127.0.0.1.:9000/',
    'http://[::1]:9000/',
    'http://[0:0:0:0:0:0:0:1]:9000/',
    'http://[::ffff:127.0.0.1]:9000/',
    'http://[::ffff:7f00:1]:9000/',
    'http://[fe80::1]:9000/',
    'http://[fc00::1]:9000/',
    'http://[fd00::1]:9000/',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/',
    'http://100.64.0.1/',
    'http://0/',
    'http://[::]/',
    'http://224.0.0.1/',
    'http://localhost:9000/',
    'http://127.0.0.1.nip.io:9000/',
  ])('refuses %s when the list names only a public host', (url) => {
    expect(judge(url, 'hooks.example.com')).toBe('CALLBACK_URL_NOT_ALLOWED')
  })

  it('allows a special address only when the list names that address itself', () => {
    expect(judge('http://127.0.0.1:9000/hook', '127.0.0.1:9000')).toBe('allowed')
    // Other spellings of the named address are that address (WHATWG URL parsing).
    expect(judge('http://2130706433:9000/hook', '127.0.0.1:9000')).toBe('allowed')
    expect(judge('http://0x7f.1:9000/hook', '127.0.0.1:9000')).toBe('allowed')
    // Another address of the same range, or the same address on another port: not named.
    expect(judge('http://127.0.0.2:9000/hook', '127.0.0.1:9000')).toBe('CALLBACK_URL_NOT_ALLOWED')
    expect(judge('http://127.0.0.1:9001/hook', '127.0.0.1:9000')).toBe('CALLBACK_URL_NOT_ALLOWED')
    expect(judge('http://[::1]:9000/', '127.0.0.1:9000')).toBe('CALLBACK_URL_NOT_ALLOWED')
    expect(judge('http://[::ffff:7f00:1]:9000/', '127.0.0.1:9000')).toBe('CALLBACK_URL_NOT_ALLOWED')
    expect(judge('http://[::1]:9000/', '[::1]:9000')).toBe('allowed')
    expect(judge('http://[0::1]:9000/', '[0:0:0:0:0:0:0:1]:9000')).toBe('allowed')
  })

  it('never takes a loopback name for an address, even when listed', () => {
    expect(judge('http://localhost:9000/', 'localhost:9000')).toBe('CALLBACK_URL_PRIVATE')
    expect(judge('http://api.localhost:9000/', 'api.localhost')).toBe('CALLBACK_URL_PRIVATE')
  })

  it('answers webhooks off without a secret or without a list', () => {
    expect(judgeCallbackUrl('https://hooks.example.com/', undefined)).toEqual({
      refusal: { message: 'WEBHOOKS_OFF', args: [] },
    })
    const noList = parseConfig({ KYLIN_UPSTREAM_URL: 'http://kylin:7070', WEBHOOK_SECRET: SECRET })
    expect(noList.webhooks).toBeUndefined()
    const noSecret = parseConfig({
      KYLIN_UPSTREAM_URL: 'http://kylin:7070',
      WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com',
    })
    expect(noSecret.webhooks).toBeUndefined()
  })

  it('throws a 400 that names the setting to change', () => {
    const settings = settingsOf('hooks.example.com')
    const refusal = (() => {
      try {
        toCallbackUrl('https://evil.example.com:444/x?token=secret', settings)
      } catch (error) {
        return error
      }
    })()
    expect(refusal).toBeInstanceOf(GatewayError)
    expect((refusal as GatewayError).status).toBe(400)
    expect((refusal as GatewayError).message).toContain('WEBHOOK_ALLOWED_HOSTS')
    expect((refusal as GatewayError).message).toContain('evil.example.com:444')
    // The query string (a receiver's token) is not echoed.
    expect((refusal as GatewayError).message).not.toContain('secret')
    expect(translate('WEBHOOKS_OFF', 'en')).toMatch(/WEBHOOK_SECRET.*WEBHOOK_ALLOWED_HOSTS/)
    expect(toCallbackUrl('https://hooks.example.com/x?a=1', settings)).toBe(
      'https://hooks.example.com/x?a=1',
    )
  })
})

describe('judgeAddress (what DNS answered)', () => {
  const allowed = toAllowedHosts(['hooks.example.com', '10.0.0.5:8080'])
  it('refuses a special address the list does not name, in any IPv6 form', () => {
    expect(judgeAddress('127.0.0.1', allowed)).toBe('loopback')
    expect(judgeAddress('::1', allowed)).toBe('loopback')
    expect(judgeAddress('::ffff:127.0.0.1', allowed)).toBe('loopback')
    expect(judgeAddress('fe80::1', allowed)).toBe('link-local')
    expect(judgeAddress('10.0.0.6', allowed)).toBe('private')
  })
  it('allows public addresses and a named special one', () => {
    expect(judgeAddress('93.184.216.34', allowed)).toBeNull()
    expect(judgeAddress('10.0.0.5', allowed)).toBeNull()
  })
})

describe('WEBHOOK_* settings', () => {
  const base = { KYLIN_UPSTREAM_URL: 'http://kylin:7070' }
  it('refuses a secret that is not whsec_ base64, without echoing it', () => {
    for (const secret of ['not-a-secret', 'whsec_short', `whsec_${'!'.repeat(40)}`]) {
      expect(() => parseConfig({ ...base, WEBHOOK_SECRET: secret })).toThrow(
        /^WEBHOOK_SECRET \(--webhook-secret\) has a bad value: must be whsec_/,
      )
      try {
        parseConfig({ ...base, WEBHOOK_SECRET: secret })
      } catch (error) {
        expect((error as Error).message).not.toContain(secret)
      }
    }
  })
  it('refuses a list entry that is not a host or host:port', () => {
    expect(() =>
      parseConfig({ ...base, WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com, https://x.example/' }),
    ).toThrow(/WEBHOOK_ALLOWED_HOSTS/)
  })
  it('reads durations and the bound', () => {
    const config = parseConfig({
      ...base,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOWED_HOSTS: 'a.example, b.example:8443',
      WEBHOOK_RETRY_FOR: '2h',
      WEBHOOK_FIRST_RETRY: '50ms',
      WEBHOOK_TIMEOUT: '3s',
      WEBHOOK_MAX_PENDING: '7',
    })
    expect(config.webhooks).toEqual({
      secret: SECRET,
      allowedHosts: ['a.example', 'b.example:8443'],
      retryForMs: 7_200_000,
      firstRetryMs: 50,
      timeoutMs: 3000,
      maxPending: 7,
    })
  })
})
