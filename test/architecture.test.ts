/**
 * Rule 1 of the house: only the runtime entries and their drivers may import runtime-bound
 * modules or read `process`. This scans every source file's imports and globals.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = join(import.meta.dirname, '..', 'src')

/** Files allowed to touch Node: the runtime entries and Node-only drivers. */
const NODE_ONLY = [
  /^runtime\/node\/.+\.ts$/,
  /^store\/fs\.ts$/,
  // The Redis pieces of REGISTRY=redis (ioredis speaks TCP through node:net).
  /^cluster\/[^/]+\.ts$/,
  // The export command: a Node program of its own that talks to a gateway over HTTP.
  /^cli\/[^/]+\.ts$/,
]
/** Files allowed to touch Workers: the Worker entry, its Durable Object and the R2 driver. */
const WORKER_ONLY = [/^runtime\/workers\/[^/]+\.ts$/, /^store\/r2\.ts$/]

const NODE_BOUND = [
  /^node:/,
  /^undici$/,
  /^pino/,
  /^prom-client/,
  /^ioredis/,
  /^@hono\/node-server/,
  /^fs$/,
  /^path$/,
  /^os$/,
]
const WORKER_BOUND = [/^cloudflare:/, /^@cloudflare\//]
const RUNTIME_BOUND = [...NODE_BOUND, ...WORKER_BOUND]

function listSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? listSources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  )
}

function importsOf(source: string): string[] {
  const specifiers: string[] = []
  for (const match of source.matchAll(/(?:import|export)[^'"`;]*?from\s*['"]([^'"]+)['"]/g)) {
    specifiers.push(match[1]!)
  }
  for (const match of source.matchAll(/import\s*\(\s*['"]([^'"]+)['"]\s*\)/g))
    specifiers.push(match[1]!)
  for (const match of source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) specifiers.push(match[1]!)
  return specifiers
}

const withoutComments = (source: string) => source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')

const files = listSources(SRC).map((path) => ({
  name: relative(SRC, path).replaceAll('\\', '/'),
  source: readFileSync(path, 'utf8'),
}))
const isNodeOnly = (name: string) => NODE_ONLY.some((pattern) => pattern.test(name))
const isWorkerOnly = (name: string) => WORKER_ONLY.some((pattern) => pattern.test(name))
const portable = files.filter((f) => !isNodeOnly(f.name) && !isWorkerOnly(f.name))

/**
 * Rule 2 of the house, dependencies flow one way: each part of src/ sits on a layer, and a file
 * imports only from its own part or from a lower layer. Top first; a part is a folder or a file
 * of src/'s root.
 */
const LAYERS = [
  ['runtime', 'cli'],
  ['app.ts'],
  ['console'],
  ['api', 'cluster'],
  ['queries'],
  ['shadow'],
  ['identity', 'export'],
  ['deps.ts'],
  ['ops', 'registry', 'webhooks'],
  ['store', 'upstream', 'config'],
  ['errors.ts'],
  ['domain', 'buffer-pool.ts', 'i18n.ts', 'logger.ts', 'redact-url.ts', 'sha256.ts'],
]
const partOf = (name: string) => name.split('/')[0]!
const layerOf = (part: string) => LAYERS.findIndex((parts) => parts.includes(part))

/** The files of src/ a file imports, by their names relative to src/. */
function localImportsOf(file: { name: string; source: string }): string[] {
  return importsOf(file.source)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => normalize(join(dirname(file.name), spec)).replaceAll('\\', '/'))
}

/** A loop of imports, as the file names that make it, or `null` when there is none. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done') return null
    if (state.get(name) === 'open') return [...path.slice(path.indexOf(name)), name]
    state.set(name, 'open')
    path.push(name)
    for (const next of graph.get(name) ?? []) {
      const cycle = visit(next)
      if (cycle) return cycle
    }
    path.pop()
    state.set(name, 'done')
    return null
  }
  for (const name of graph.keys()) {
    const cycle = visit(name)
    if (cycle) return cycle
  }
  return null
}

describe('architecture', () => {
  it('finds the sources it checks', () => {
    expect(portable.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        'app.ts',
        'queries/runner.ts',
        'store/memory.ts',
        'registry/durable-object.ts',
      ]),
    )
    expect(files.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        'runtime/node/main.ts',
        'cli/main.ts',
        'store/fs.ts',
        'runtime/workers/worker.ts',
        'store/r2.ts',
      ]),
    )
  })

  it.each(portable.map((f) => [f.name, f.source]))(
    '%s imports nothing runtime-bound',
    (_name, source) => {
      const bad = importsOf(source).filter((spec) =>
        RUNTIME_BOUND.some((pattern) => pattern.test(spec)),
      )
      expect(bad).toEqual([])
    },
  )

  it.each(portable.map((f) => [f.name, f.source]))(
    '%s reads no process or Buffer',
    (_name, source) => {
      expect(withoutComments(source)).not.toMatch(/\bprocess\.|\bBuffer\b|\brequire\(/)
    },
  )

  it('Node-only files import nothing of Workers, and Worker files nothing of Node', () => {
    for (const file of files) {
      const specs = importsOf(file.source)
      if (isNodeOnly(file.name)) {
        expect(
          specs.filter((s) => WORKER_BOUND.some((p) => p.test(s))),
          file.name,
        ).toEqual([])
      }
      if (isWorkerOnly(file.name)) {
        expect(
          specs.filter((s) => NODE_BOUND.some((p) => p.test(s))),
          file.name,
        ).toEqual([])
        expect(withoutComments(file.source), file.name).not.toMatch(/\bprocess\.|\bBuffer\b/)
      }
    }
  })

  it('the R2 driver imports Workers types only as types', () => {
    const r2 = files.find((f) => f.name === 'store/r2.ts')
    expect(r2).toBeDefined()
    expect(r2!.source).not.toMatch(/import\s+(?!type\b)[^;]*from\s+['"]@cloudflare/)
  })

  it('nothing in the core imports the runtime layer', () => {
    for (const file of portable) {
      const bad = importsOf(file.source).filter(
        (spec) => spec.includes('/runtime/') || spec.startsWith('./runtime'),
      )
      expect(bad, file.name).toEqual([])
    }
  })

  it.each(files.map((f) => [f.name, f]))(
    '%s imports only its own part or lower layers',
    (name, file) => {
      const layer = layerOf(partOf(name))
      expect(layer, `${name} is on no layer of LAYERS`).toBeGreaterThanOrEqual(0)
      const upward = localImportsOf(file).filter((target) => {
        const part = partOf(target)
        return part !== partOf(name) && layerOf(part) <= layer
      })
      expect(upward).toEqual([])
    },
  )

  it('no import loops', () => {
    const graph = new Map(files.map((f) => [f.name, localImportsOf(f)]))
    expect(findCycle(graph)).toBeNull()
  })

  it('the layer and loop checks catch a violation', () => {
    expect(
      localImportsOf({ name: 'store/s3.ts', source: "import { x } from '../app.ts'\n" }),
    ).toEqual(['app.ts'])
    expect(layerOf('app.ts')).toBeLessThan(layerOf('store'))
    const loop = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
    ])
    expect(findCycle(loop)).toEqual(['a.ts', 'b.ts', 'c.ts', 'a.ts'])
    expect(findCycle(new Map([['a.ts', ['b.ts']]]))).toBeNull()
  })

  it('the scanner itself catches a violation', () => {
    expect(importsOf("import { readFile } from 'node:fs/promises'\n")).toEqual(['node:fs/promises'])
    expect(importsOf("import type { X } from 'undici'\n")).toEqual(['undici'])
    expect(importsOf("const m = await import('pino')")).toEqual(['pino'])
    expect(importsOf("import { DurableObject } from 'cloudflare:workers'\n")).toEqual([
      'cloudflare:workers',
    ])
  })
})
