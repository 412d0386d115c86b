/**
 * Settings: where the gateway listens and which Kylin it fronts.
 * Portable: part of the table that drives the schema, the CLI flags and `--help`.
 */
import { z } from 'zod'
import { integer, upstreamUrl } from './values.ts'

export const SERVER_SETTINGS = {
  KYLIN_UPSTREAM_URL: {
    flag: 'upstream',
    schema: upstreamUrl,
    default: undefined,
    help: 'Base URL of the upstream Kylin, e.g. http://kylin:7070 (required)',
  },
  PORT: { flag: 'port', schema: integer(0, 65535), default: '8080', help: 'Port to listen on' },
  HOST: { flag: 'host', schema: z.string().min(1), default: '0.0.0.0', help: 'Address to bind' },
} as const
