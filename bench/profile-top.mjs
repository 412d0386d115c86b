/**
 * The top self-time functions of a V8 .cpuprofile (node --cpu-prof), as % of the busy (not idle)
 * samples: `node bench/profile-top.mjs <file> [count]`. Bench only; reads a file, prints a table.
 */
import { readFileSync } from 'node:fs'

const [file, count = '30'] = process.argv.slice(2)
if (!file) throw new Error('usage: node bench/profile-top.mjs <file.cpuprofile> [count]')
const profile = JSON.parse(readFileSync(file, 'utf8'))
const hits = new Map(profile.nodes.map((node) => [node.id, 0]))
for (const id of profile.samples) hits.set(id, hits.get(id) + 1)
const selfByFunction = new Map()
for (const node of profile.nodes) {
  const { functionName, url, lineNumber } = node.callFrame
  const where = url
    ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|src)\//, '$1/')}:${lineNumber + 1}`
    : ''
  const key = `${functionName || '(anonymous)'} ${where}`.trim()
  selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + hits.get(node.id))
}
const idle = selfByFunction.get('(idle)') ?? 0
selfByFunction.delete('(idle)')
const total = profile.samples.length - idle
const top = [...selfByFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(count))
console.log(`${total} busy samples (${idle} idle left out)`)
for (const [name, n] of top) console.log(`${((n / total) * 100).toFixed(1).padStart(5)} %  ${name}`)
