/** STORE=s3 settings: what they become, and one clear line for each thing missing or wrong. */
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import { formatHelp } from '../../src/config/help.ts'
import { ConfigError } from '../../src/errors.ts'
import { startNodeGateway } from '../../src/runtime/node/gateway.ts'

const s3 = {
  KYLIN_UPSTREAM_URL: 'http://kylin:7070',
  STORE: 's3',
  S3_BUCKET: 'results',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
}

function errorOf(run: () => unknown): Error {
  try {
    run()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected an error')
}

describe('STORE=s3 settings', () => {
  it('gathers the s3 settings, with us-east-1, no prefix and AWS itself by default', () => {
    expect(parseConfig(s3).s3).toEqual({
      bucket: 'results',
      region: 'us-east-1',
      prefix: '',
      credentials: {
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      },
    })
    const custom = parseConfig({
      ...s3,
      S3_ENDPOINT: 'http://minio:9000',
      S3_REGION: 'eu-west-3',
      S3_PREFIX: 'kylin/',
      AWS_SESSION_TOKEN: 'token',
    }).s3
    expect(custom).toMatchObject({
      endpoint: 'http://minio:9000',
      region: 'eu-west-3',
      prefix: 'kylin/',
      credentials: { sessionToken: 'token' },
    })
  })

  it('has no s3 settings for the other stores, whatever S3_* says', () => {
    expect(parseConfig({ ...s3, STORE: 'fs' }).s3).toBeUndefined()
  })

  it.each([
    [{ S3_BUCKET: '' }, 'S3_BUCKET (--s3-bucket) is required with STORE=s3'],
    [{ S3_BUCKET: undefined }, 'S3_BUCKET (--s3-bucket) is required with STORE=s3'],
    [{ AWS_ACCESS_KEY_ID: '' }, 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'],
    [{ AWS_SECRET_ACCESS_KEY: ' ' }, 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'],
    [{ S3_ENDPOINT: 'minio:9000' }, 'S3_ENDPOINT (--s3-endpoint) has a bad value "minio:9000"'],
    [{ S3_REGION: 'EU West' }, 'S3_REGION (--s3-region) has a bad value "EU West"'],
  ])('stops on %j with one line', (vars, message) => {
    const error = errorOf(() => parseConfig({ ...s3, ...vars }))
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.message).toContain(message)
    expect(error.message).not.toContain('\n')
    expect(error.message).not.toContain(s3.AWS_SECRET_ACCESS_KEY)
  })

  it('stops the Node gateway with one line for a prefix S3 cannot address', async () => {
    const config = parseConfig({ ...s3, S3_PREFIX: '/results/', PORT: '0', LOG_LEVEL: 'silent' })
    const start = startNodeGateway(config)
    await expect(start).rejects.toBeInstanceOf(ConfigError)
    await expect(start).rejects.toThrow(/^STORE \(--store\) s3: \[s3\] prefix must/)
  })

  it('lists the s3 settings in --help', () => {
    const help = formatHelp('kylin-async-gateway')
    for (const flag of ['--s3-endpoint', '--s3-bucket', '--s3-region', '--s3-prefix']) {
      expect(help).toContain(flag)
    }
    expect(help).toContain('--aws-secret-access-key')
    expect(help).toContain('(default us-east-1)')
  })
})
