/**
 * The baseline for the status-poll throughput bench: a bare Hono hello-world on the same Node
 * adapter the gateway uses. Bench only; prints its URL and exits when stdin closes.
 */
import { serve } from '@hono/node-server'
import { Hono } from 'hono'

const app = new Hono()
app.get('*', (c) => c.json({ code: '000', data: { status: 'SUCCESSFUL' }, msg: '' }))
serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  process.stdout.write(`hello listening on http://127.0.0.1:${info.port}\n`)
})
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
