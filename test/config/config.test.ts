/** Settings: defaults, coercion, and one clear line for every bad value. */
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import { formatHelp } from '../../src/config/help.ts'
import { SETTINGS } from '../../src/config/settings.ts'
import { ConfigError } from '../../src/errors.ts'

const base = { KYLIN_UPSTREAM_URL: 'http://kylin:7070/' }

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    expect(parseConfig(base)).toEqual({
      upstreamUrl: 'http://kylin:7070',
      upstreams: { targets: [{ name: 'kylin:7070', url: 'http://kylin:7070' }], projects: {} },
      port: 8080,
      host: '0.0.0.0',
      keepAliveTimeoutMs: 65_000,
      headersTimeoutMs: 66_000,
      requestTimeoutMs: 300_000,
      store: 'fs',
      dataDir: './data',
      memoryStoreMaxBytes: 512 * 1024 * 1024,
      maxConcurrentQueries: 4,
      maxConcurrentPerUser: 3,
      maxQueuedQueries: 1000,
      maxResultBytes: 50 * 1024 ** 3,
      csvKernel: 'wasm',
      exportThreads: 1,
      exportThreadHeapMb: 128,
      shutdownGraceMs: 10000,
      resultRetainMs: 7 * 86_400_000,
      maxQueries: 10000,
      upstreamTimeoutMs: 1_800_000,
      authCacheTtlMs: 30000,
      maxBodyBytes: 1048576,
      logLevel: 'info',
      metricsToken: '',
      registry: 'memory',
    })
  })

  it('coerces numbers and treats empty values as unset', () => {
    const config = parseConfig({ ...base, PORT: ' 9000 ', STORE: 'memory', LOG_LEVEL: '' })
    expect(config.port).toBe(9000)
    expect(config.store).toBe('memory')
    expect(config.logLevel).toBe('info')
  })

  it.each([
    [{}, 'KYLIN_UPSTREAM_URL (--upstream) is required'],
    [
      { KYLIN_UPSTREAM_URL: 'kylin:7070' },
      'KYLIN_UPSTREAM_URL (--upstream) has a bad value "kylin:7070"',
    ],
    [{ KYLIN_UPSTREAM_URL: 'ftp://kylin' }, 'KYLIN_UPSTREAM_URL (--upstream) has a bad value'],
    [{ ...base, PORT: 'eighty' }, 'PORT (--port) has a bad value "eighty"'],
    [{ ...base, PORT: '70000' }, 'PORT (--port) has a bad value "70000"'],
    [{ ...base, STORE: 'tape' }, 'STORE (--store) has a bad value "tape"'],
    [{ ...base, MAX_CONCURRENT_QUERIES: '0' }, 'MAX_CONCURRENT_QUERIES (--max-concurrent-queries)'],
  ])('stops on %j with one line', (vars, message) => {
    let error: unknown
    try {
      parseConfig(vars)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toContain(message)
    expect((error as Error).message).not.toContain('\n')
  })

  it('wants MAX_QUERIES above MAX_CONCURRENT_QUERIES + MAX_QUEUED_QUERIES', () => {
    const limits = { ...base, MAX_CONCURRENT_QUERIES: '4', MAX_QUEUED_QUERIES: '96' }
    expect(() => parseConfig({ ...limits, MAX_QUERIES: '100' })).toThrow(
      'MAX_QUERIES (--max-queries) has a bad value "100": must be more than MAX_CONCURRENT_QUERIES + MAX_QUEUED_QUERIES (100)',
    )
    expect(parseConfig({ ...limits, MAX_QUERIES: '101' }).maxQueries).toBe(101)
    // Raising the queue past the default registry size is caught too.
    expect(() => parseConfig({ ...base, MAX_QUEUED_QUERIES: '20000' })).toThrow(ConfigError)
  })

  it('refuses an upstream URL with credentials, and never echoes them', () => {
    let error: unknown
    try {
      parseConfig({ KYLIN_UPSTREAM_URL: 'http://svc:s3cr3t-pw@kylin:7070' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as Error).message
    expect(message).toContain('KYLIN_UPSTREAM_URL (--upstream) has a bad value')
    expect(message).toContain('must not carry a user or password')
    expect(message).not.toContain('s3cr3t-pw')
    expect(message).not.toContain('svc')
    expect(() => parseConfig({ KYLIN_UPSTREAM_URL: 'http://svc@kylin:7070' })).toThrow(
      'must not carry a user or password',
    )
  })

  it('keeps the header timeout within the request timeout, as Node requires', () => {
    expect(() =>
      parseConfig({ ...base, HEADERS_TIMEOUT_MS: '70000', REQUEST_TIMEOUT_MS: '60000' }),
    ).toThrow('HEADERS_TIMEOUT_MS (--headers-timeout-ms) has a bad value "70000"')
    const unlimited = parseConfig({ ...base, HEADERS_TIMEOUT_MS: '70000', REQUEST_TIMEOUT_MS: '0' })
    expect(unlimited.requestTimeoutMs).toBe(0)
  })

  it('reads RESULT_RETAIN as Kylin-style durations', () => {
    expect(parseConfig({ ...base, RESULT_RETAIN: '12h' }).resultRetainMs).toBe(12 * 3_600_000)
    expect(parseConfig({ ...base, RESULT_RETAIN: '90s' }).resultRetainMs).toBe(90_000)
    expect(() => parseConfig({ ...base, RESULT_RETAIN: 'a week' })).toThrow(
      'RESULT_RETAIN (--result-retain) has a bad value "a week"',
    )
  })

  it('lists every setting with its flag and default in --help', () => {
    const help = formatHelp('kylin-async-gateway')
    for (const [name, setting] of Object.entries(SETTINGS)) {
      expect(help).toContain(`--${setting.flag}`)
      expect(help).toContain(name)
      if (setting.default === undefined) continue
      expect(help).toContain(
        setting.default === '' ? '(default none)' : `(default ${setting.default})`,
      )
    }
    expect(help).toContain('--version')
  })
})
