/** KYLIN_UPSTREAMS: the project map, its default, and one clear line for each mistake. */
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import { formatHelp } from '../../src/config/help.ts'
import { ConfigError } from '../../src/errors.ts'

function failureOf(vars: Record<string, string | undefined>): string {
  try {
    parseConfig(vars)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error('parseConfig accepted it')
}

describe('KYLIN_UPSTREAMS', () => {
  it('maps projects to upstreams, * the default, named by host', () => {
    const config = parseConfig({
      KYLIN_UPSTREAMS:
        ' learn_kylin=http://kylin5:7070/ , Sales=http://kylin5:7070,ops=https://k4b.example/kylin-a, *=http://kylin4:7070',
    })
    expect(config.upstreamUrl).toBe('http://kylin4:7070')
    expect(config.upstreams).toEqual({
      targets: [
        { name: 'kylin4:7070', url: 'http://kylin4:7070' },
        { name: 'kylin5:7070', url: 'http://kylin5:7070' },
        { name: 'k4b.example', url: 'https://k4b.example/kylin-a' },
      ],
      projects: { learn_kylin: 'kylin5:7070', sales: 'kylin5:7070', ops: 'k4b.example' },
    })
  })

  it('takes KYLIN_UPSTREAM_URL as the default when the map names none', () => {
    const config = parseConfig({
      KYLIN_UPSTREAM_URL: 'http://kylin4:7070',
      KYLIN_UPSTREAMS: 'learn_kylin=http://kylin5:7070',
    })
    expect(config.upstreamUrl).toBe('http://kylin4:7070')
    expect(config.upstreams.targets.map((t) => t.name)).toEqual(['kylin4:7070', 'kylin5:7070'])
  })

  it('names upstreams on one host apart by their path', () => {
    const config = parseConfig({
      KYLIN_UPSTREAMS: 'a=http://kylin:7070/one,b=http://kylin:7070/two,*=http://kylin:7070',
    })
    expect(config.upstreams.targets.map((t) => t.name)).toEqual([
      'kylin:7070',
      'kylin:7070/one',
      'kylin:7070/two',
    ])
  })

  it('keeps the one-upstream form as it was', () => {
    const config = parseConfig({ KYLIN_UPSTREAM_URL: 'http://kylin:7070/' })
    expect(config.upstreams).toEqual({
      targets: [{ name: 'kylin:7070', url: 'http://kylin:7070' }],
      projects: {},
    })
  })

  it.each([
    [{}, 'KYLIN_UPSTREAM_URL (--upstream) is required (or KYLIN_UPSTREAMS with a *=URL default)'],
    [
      { KYLIN_UPSTREAMS: 'learn_kylin=http://kylin5:7070' },
      'KYLIN_UPSTREAMS (--upstreams) has no default: add *=URL, or set KYLIN_UPSTREAM_URL',
    ],
    [
      { KYLIN_UPSTREAM_URL: 'http://a:1', KYLIN_UPSTREAMS: 'p=http://b:1,*=http://c:1' },
      'KYLIN_UPSTREAMS (--upstreams) names a * default and KYLIN_UPSTREAM_URL (--upstream) is set too',
    ],
    [{ KYLIN_UPSTREAMS: 'http://kylin:7070' }, 'has an entry without project=URL'],
    [{ KYLIN_UPSTREAMS: 'p=http://a:1,P=http://b:1,*=http://c:1' }, 'names the project "P" twice'],
    [
      { KYLIN_UPSTREAMS: 'my project=http://a:1,*=http://c:1' },
      'has a bad project name "my project"',
    ],
    [{ KYLIN_UPSTREAMS: 'p=kylin:7070,*=http://c:1' }, 'has a bad URL for "p", "kylin:7070"'],
    [{ KYLIN_UPSTREAMS: 'p=ftp://kylin,*=http://c:1' }, 'must be an http:// or https:// URL'],
  ])('stops on %j with one line', (vars, message) => {
    const text = failureOf(vars as Record<string, string>)
    expect(text).toContain(message)
    expect(text).not.toContain('\n')
  })

  it('refuses a URL with user:password and never repeats the password', () => {
    for (const vars of [
      { KYLIN_UPSTREAMS: 'p=http://admin:s3cret@kylin5:7070,*=http://c:1' },
      { KYLIN_UPSTREAMS: '*=http://admin:s3cret@kylin5:7070' },
      { KYLIN_UPSTREAM_URL: 'http://admin:s3cret@kylin5:7070' },
    ]) {
      const text = failureOf(vars)
      expect(text).toContain('must not carry a user or password')
      expect(text).not.toContain('s3cret')
    }
  })

  it('is listed in --help', () => {
    expect(formatHelp('gateway')).toContain('--upstreams')
  })
})
