/**
 * The baseline of the status-poll bench: a bare Hono hello-world served exactly as the gateway is
 * served (dist's startHttpServer: @hono/node-server, the config's server timeouts). Bench only.
 */
import { Hono } from 'hono'
import { parseConfig } from '../dist/config/config.js'
import { startHttpServer } from '../dist/runtime/node/http-server.js'

const config = parseConfig({
  KYLIN_UPSTREAM_URL: 'http://127.0.0.1:7070',
  HOST: '127.0.0.1',
  PORT: '0',
})
const app = new Hono()
app.get('*', (c) => c.text('Hello Hono!'))
const server = await startHttpServer(app.fetch, config)
process.stdout.write(`hello listening on http://127.0.0.1:${server.address().port}\n`)
// An exit of its own on SIGTERM, as the gateway's, so that --cpu-prof gets to write its profile.
process.on('SIGTERM', () => process.exit(0))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
