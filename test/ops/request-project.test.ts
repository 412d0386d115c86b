/** The project a pass-through request names: query string first, then a bounded look at the body. */
import { describe, expect, it } from 'vitest'
import { findRequestProject, findTopLevelString } from '../../src/ops/request-project.ts'

const KEYS = new Set(['project', 'projectName'])

function streamOf(text: string, chunkBytes: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  let offset = 0
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close()
      controller.enqueue(bytes.slice(offset, offset + chunkBytes))
      offset += chunkBytes
    },
  })
}

function post(body: string, options: { type?: string; chunk?: number; url?: string } = {}) {
  return new Request(options.url ?? 'http://gw/kylin/api/cubes', {
    method: 'POST',
    headers: { 'content-type': options.type ?? 'application/json' },
    body: streamOf(body, options.chunk ?? 7),
    duplex: 'half',
  } as RequestInit)
}

describe('findTopLevelString', () => {
  it.each([
    ['{"project":"a"}', 'a'],
    [' { "sql" : "select \\"project\\":\\"x\\"", "project" : "b" }', 'b'],
    ['{"projectName":"c","project":"d"}', 'c'],
    ['{"nested":{"project":"x"},"list":[{"project":"y"}],"project":"e"}', 'e'],
    ['{"project":"caf\\u00e9"}', 'café'],
  ])('%s → %s', (text, expected) => {
    expect(findTopLevelString(text, KEYS)).toBe(expected)
  })

  it.each([
    '{"nested":{"project":"x"}}',
    '{"project":5}',
    '{"project":""}',
    '["project","x"]',
    '{"project":"cut sho',
    '{"sql":"cut',
    'not json',
    '',
  ])('finds nothing in %s', (text) => {
    expect(findTopLevelString(text, KEYS)).toBeUndefined()
  })
})

describe('findRequestProject', () => {
  it('takes ?project= or ?projectName= without reading the body', async () => {
    const request = post('{"project":"body"}', { url: 'http://gw/kylin/api/x?projectName=q' })
    const found = await findRequestProject(request)
    expect(found).toEqual({ project: 'q' })
    expect(request.bodyUsed).toBe(false)
  })

  it('finds the body project and passes every byte on, in order', async () => {
    const body = JSON.stringify({ project: 'p1', data: 'é'.repeat(50_000) })
    const found = await findRequestProject(post(body), 1024)
    expect(found.project).toBe('p1')
    expect(await new Response(found.body).text()).toBe(body)
  })

  it('reads no further than its bound: a project past it is not found, the body still whole', async () => {
    const body = JSON.stringify({ data: 'x'.repeat(5000), project: 'late' })
    const found = await findRequestProject(post(body, { chunk: 100 }), 1000)
    expect(found.project).toBeUndefined()
    expect(await new Response(found.body).text()).toBe(body)
  })

  it('leaves an upload alone', async () => {
    const request = post('{"project":"x"}', { type: 'multipart/form-data; boundary=x' })
    expect(await findRequestProject(request)).toEqual({})
    expect(request.bodyUsed).toBe(false)
  })

  it('looks into JSON sent under another type, as Kylin reads it', async () => {
    for (const type of ['text/plain;charset=UTF-8', 'application/x-www-form-urlencoded']) {
      const found = await findRequestProject(post('{"project":"p"}', { type }))
      expect(found.project).toBe('p')
      expect(await new Response(found.body).text()).toBe('{"project":"p"}')
    }
    const form = await findRequestProject(post('project=x&a=1', { type: 'text/plain' }))
    expect(form.project).toBeUndefined()
    expect(await new Response(form.body).text()).toBe('project=x&a=1')
  })

  it('looks at nothing on a GET', async () => {
    expect(await findRequestProject(new Request('http://gw/kylin/api/cubes'))).toEqual({})
  })
})
