/**
 * Settings: where the gateway listens and which Kylin it fronts.
 * Portable: part of the table that drives the schema, the CLI flags and `--help`.
 */
import { z } from 'zod'
import { integer, publicUrl } from './values.ts'
import { UPSTREAM_SETTINGS } from './upstream-settings.ts'

export const SERVER_SETTINGS = {
  ...UPSTREAM_SETTINGS,
  PORT: { flag: 'port', schema: integer(0, 65535), default: '8080', help: 'Port to listen on' },
  HOST: { flag: 'host', schema: z.string().min(1), default: '0.0.0.0', help: 'Address to bind' },
  KEEP_ALIVE_TIMEOUT_MS: {
    flag: 'keep-alive-timeout-ms',
    schema: integer(0, 3_600_000),
    default: '65000',
    help: "How long an idle client connection stays open; keep it above your load balancer's idle timeout (ALB and nginx: 60 s)",
  },
  HEADERS_TIMEOUT_MS: {
    flag: 'headers-timeout-ms',
    schema: integer(1000, 3_600_000),
    default: '66000',
    help: "Longest a client may take to send a request's headers; above KEEP_ALIVE_TIMEOUT_MS",
  },
  REQUEST_TIMEOUT_MS: {
    flag: 'request-timeout-ms',
    schema: integer(0, 86_400_000),
    default: '300000',
    help: 'Longest a client may take to send a whole request (not the download); 0 for no limit',
  },
  PUBLIC_URL: {
    flag: 'public-url',
    schema: publicUrl,
    default: '',
    help: "Base URL clients reach the gateway at, e.g. https://kylin.example.com (behind a proxy); the URLs the gateway hands out (signed links) start with it; unset: the request's own origin",
  },
} as const
