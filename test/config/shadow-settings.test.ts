/** Shadow run settings: off unless KYLIN_SHADOW_URL is set, their defaults, and bad values. */
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import { ConfigError } from '../../src/errors.ts'
import { isShadowSampled } from '../../src/shadow/shadow-runner.ts'

const base = { KYLIN_UPSTREAM_URL: 'http://kylin:7070' }

describe('shadow settings', () => {
  it('are off without KYLIN_SHADOW_URL', () => {
    expect(parseConfig(base).shadow).toBeUndefined()
    expect(parseConfig({ ...base, SHADOW_SAMPLE: '0.5' }).shadow).toBeUndefined()
  })

  it('take their defaults with KYLIN_SHADOW_URL, and the values given', () => {
    expect(parseConfig({ ...base, KYLIN_SHADOW_URL: 'http://kylin5:7070/' }).shadow).toEqual({
      url: 'http://kylin5:7070',
      sample: 1,
      projects: [],
      maxConcurrent: 2,
      maxQueued: 100,
    })
    const given = parseConfig({
      ...base,
      KYLIN_SHADOW_URL: 'https://kylin5.example.com',
      SHADOW_SAMPLE: '0.25',
      SHADOW_PROJECTS: ' learn_kylin , sales ,',
      SHADOW_MAX_CONCURRENT: '8',
      SHADOW_MAX_QUEUED: '0',
    }).shadow
    expect(given).toEqual({
      url: 'https://kylin5.example.com',
      sample: 0.25,
      projects: ['learn_kylin', 'sales'],
      maxConcurrent: 8,
      maxQueued: 0,
    })
  })

  it.each([
    ['KYLIN_SHADOW_URL', 'ftp://kylin5'],
    ['SHADOW_SAMPLE', '1.5'],
    ['SHADOW_SAMPLE', '-0.1'],
    ['SHADOW_SAMPLE', 'half'],
    ['SHADOW_MAX_CONCURRENT', '0'],
    ['SHADOW_MAX_QUEUED', '-1'],
  ])('refuse %s=%s with one line naming it', (name, value) => {
    const parse = () =>
      parseConfig({ ...base, KYLIN_SHADOW_URL: 'http://kylin5:7070', [name]: value })
    expect(parse).toThrow(ConfigError)
    expect(parse).toThrow(new RegExp(`^${name} `))
  })

  it('never show the password of a shadow URL that carries one', () => {
    const parse = () => parseConfig({ ...base, KYLIN_SHADOW_URL: 'http://u:secret@kylin5:7070' })
    expect(parse).toThrow(/KYLIN_SHADOW_URL/)
    expect(parse).not.toThrow(/secret/)
  })
})

describe('isShadowSampled', () => {
  it('draws with the sample, and only in the projects named', () => {
    const all = { sample: 1, projects: [] }
    expect(isShadowSampled(all, 'any', () => 0.999)).toBe(true)
    expect(isShadowSampled({ sample: 0, projects: [] }, 'any', () => 0)).toBe(false)
    expect(isShadowSampled({ sample: 0.3, projects: [] }, 'any', () => 0.29)).toBe(true)
    expect(isShadowSampled({ sample: 0.3, projects: [] }, 'any', () => 0.3)).toBe(false)
    expect(isShadowSampled({ sample: 1, projects: ['sales'] }, 'learn_kylin')).toBe(false)
    expect(isShadowSampled({ sample: 1, projects: ['sales'] }, 'sales')).toBe(true)
  })
})
