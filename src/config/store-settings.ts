/**
 * Settings: where results are kept: fs, memory, r2 or an S3-compatible bucket.
 * Portable: part of the table that drives the schema, the CLI flags and `--help`.
 */
import { z } from 'zod'
import { ConfigError } from '../errors.ts'
import { integer, type SettingValues } from './values.ts'

export const STORE_SETTINGS = {
  STORE: {
    flag: 'store',
    schema: z.enum(['fs', 'memory', 'r2', 's3']),
    default: 'fs',
    help: 'Where results are kept: fs (DATA_DIR), memory, or s3 (S3_BUCKET); r2 on Workers',
  },
  DATA_DIR: {
    flag: 'data-dir',
    schema: z.string().min(1),
    default: './data',
    help: 'Directory of the fs store',
  },
  MEMORY_STORE_MAX_BYTES: {
    flag: 'memory-store-max-bytes',
    schema: integer(1),
    default: String(512 * 1024 * 1024),
    help: 'Byte budget of the memory store; the least recently used results go first',
  },
  S3_ENDPOINT: {
    flag: 's3-endpoint',
    schema: z.union([
      z.literal(''),
      z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    ]),
    default: '',
    help: 'S3-compatible endpoint of the s3 store, e.g. http://minio:9000 (path-style); none means AWS S3',
  },
  S3_BUCKET: {
    flag: 's3-bucket',
    schema: z.string(),
    default: '',
    help: 'Bucket of the s3 store (required with STORE=s3)',
  },
  S3_REGION: {
    flag: 's3-region',
    schema: z.string().regex(/^[a-z0-9-]+$/, 'must be a region name such as us-east-1'),
    default: 'us-east-1',
    help: 'Region the s3 store signs its requests for',
  },
  S3_PREFIX: {
    flag: 's3-prefix',
    schema: z.string(),
    default: '',
    help: 'Prepended to every key of the s3 store, e.g. results/, to share a bucket',
  },
  AWS_ACCESS_KEY_ID: {
    flag: 'aws-access-key-id',
    schema: z.string(),
    default: '',
    help: 'Access key id of the s3 store (required with STORE=s3)',
  },
  AWS_SECRET_ACCESS_KEY: {
    flag: 'aws-secret-access-key',
    schema: z.string(),
    default: '',
    help: 'Secret access key of the s3 store (required with STORE=s3); prefer the variable, flags show in ps',
  },
  AWS_SESSION_TOKEN: {
    flag: 'aws-session-token',
    schema: z.string(),
    default: '',
    help: 'Session token of temporary credentials for the s3 store',
  },
} as const

export interface S3Settings {
  /** `undefined`: AWS S3 itself. */
  endpoint?: string
  bucket: string
  region: string
  prefix: string
  /** Under `credentials`, a path the Node logger redacts, should a config object ever be logged. */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
}

/** The s3 store's settings, or a one-line error naming what STORE=s3 is missing. */
export function toS3Settings(c: SettingValues<typeof STORE_SETTINGS>): S3Settings {
  if (c.S3_BUCKET === '') throw new ConfigError('S3_BUCKET (--s3-bucket) is required with STORE=s3')
  if (c.AWS_ACCESS_KEY_ID === '' || c.AWS_SECRET_ACCESS_KEY === '') {
    throw new ConfigError(
      'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (--aws-access-key-id, --aws-secret-access-key) are required with STORE=s3',
    )
  }
  return {
    ...(c.S3_ENDPOINT === '' ? {} : { endpoint: c.S3_ENDPOINT }),
    bucket: c.S3_BUCKET,
    region: c.S3_REGION,
    prefix: c.S3_PREFIX,
    credentials: {
      accessKeyId: c.AWS_ACCESS_KEY_ID,
      secretAccessKey: c.AWS_SECRET_ACCESS_KEY,
      ...(c.AWS_SESSION_TOKEN === '' ? {} : { sessionToken: c.AWS_SESSION_TOKEN }),
    },
  }
}
