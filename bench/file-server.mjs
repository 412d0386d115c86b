/**
 * The download bench's baseline: a plain node:http server that sends one file with
 * fs.createReadStream, as a Node file server would, in a process of its own. Bench only.
 * Run: node bench/file-server.mjs <file>
 */
import { createReadStream, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { pipeline } from 'node:stream'

const file = process.argv[2]
if (!file) throw new Error('usage: node bench/file-server.mjs <file>')

const server = createServer((req, res) => {
  const size = statSync(file).size
  res.writeHead(200, { 'Content-Type': 'text/csv', 'Content-Length': size })
  pipeline(createReadStream(file), res, () => {})
})
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`file server listening on http://127.0.0.1:${server.address().port}\n`)
})
// An exit of its own on SIGTERM, so that --cpu-prof gets to write its profile.
process.on('SIGTERM', () => process.exit(0))
