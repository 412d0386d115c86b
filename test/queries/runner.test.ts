/**
 * What the runner writes into a FAILED record's `info`: one line, no Java stack frames, no URL
 * userinfo, at most 4 KiB, whatever failed; and a registry that misses a progress update
 * loses nothing.
 */
import { describe, expect, it } from 'vitest'
import { createGateway, type GatewayOptions } from '../../src/app.ts'
import { UpstreamError } from '../../src/errors.ts'
import { exportResult, type ExportRequest, type Exporter } from '../../src/export/export-result.ts'
import { ANALYST, makeTestDeps, toStream, type TestDeps } from '../support/test-deps.ts'
import { collectUnhandledRejections } from '../support/unhandled-rejections.ts'

const unhandled = collectUnhandledRejections()

async function runToEnd(
  deps: TestDeps,
  options?: GatewayOptions,
): Promise<{ state: string; error?: string }> {
  const { app } = createGateway(deps, options)
  const res = await app.request('/kylin/api/async_query', {
    method: 'POST',
    headers: { Authorization: ANALYST, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql: 'select 1', project: 'learn_kylin' }),
  })
  const id = ((await res.json()) as { data: { queryID: string } }).data.queryID
  await deps.settle()
  const record = await deps.registry.get(id)
  return { state: record!.state, ...(record!.error ? { error: record!.error } : {}) }
}

describe('queries/runner failure messages', () => {
  it('caps a huge Kylin exception message at 4 KiB, marked as cut', async () => {
    const deps = makeTestDeps()
    const cause = "Object 'NO_SUCH_TABLE' not found while executing SQL: "
    const huge = `${cause}"select ${'x, '.repeat(50_000)}1"`
    deps.setQueryHandler(async () =>
      toStream(
        JSON.stringify({
          columnMetas: [],
          results: [],
          isException: true,
          exceptionMessage: huge,
        }),
      ),
    )
    const record = await runToEnd(deps)
    expect(record.state).toBe('FAILED')
    expect(record.error!.startsWith(cause)).toBe(true)
    expect(new TextEncoder().encode(record.error).length).toBeLessThanOrEqual(4096)
    expect(record.error).toMatch(/ … \[message cut: \d+ bytes in all\]$/)
  })

  it('drops stack frames and URL userinfo from any failure, in one line', async () => {
    const deps = makeTestDeps()
    deps.setQueryHandler(async () => {
      throw new UpstreamError(
        'Cannot read http://svc:pw-123@kylin:7070/kylin/api/query\n' +
          '\tat org.apache.kylin.rest.service.QueryService.query(QueryService.java:12)\n',
      )
    })
    const record = await runToEnd(deps)
    expect(record).toEqual({
      state: 'FAILED',
      error: 'Cannot read http://[redacted]@kylin:7070/kylin/api/query',
    })
  })

  it('finishes a query whose registry refuses its progress updates', async () => {
    const deps = makeTestDeps()
    const rows = Array.from({ length: 2000 }, (_, i) => [String(i), 'x', '1'])
    deps.setQueryHandler(async () => {
      const body = JSON.stringify({
        columnMetas: [{ label: 'A' }, { label: 'B' }, { label: 'C' }],
        results: rows,
      })
      // Slow enough that progress is due between chunks.
      let at = 0
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (at >= body.length) return controller.close()
          deps.advance(600)
          controller.enqueue(new TextEncoder().encode(body.slice(at, (at += 4096))))
        },
      })
    })
    const update = deps.registry.update.bind(deps.registry)
    let refused = 0
    deps.registry.update = async (id, patch) => {
      if (patch.state === undefined) {
        refused++
        throw new Error('Connection is closed.')
      }
      return update(id, patch)
    }
    const record = await runToEnd(deps)
    expect(refused).toBeGreaterThan(0)
    expect(record.state).toBe('SUCCESSFUL')
    expect(unhandled).toEqual([])
  })
})

describe('queries/runner and the exporter', () => {
  it("warms the exporter as the upstream call starts, so a thread's start overlaps it", async () => {
    const deps = makeTestDeps()
    const events: string[] = []
    const exporter: Exporter = Object.assign(
      (body: ReadableStream<Uint8Array>, request: ExportRequest) => {
        events.push('export')
        return exportResult(body, request)
      },
      { warm: () => void events.push('warm') },
    )
    deps.setQueryHandler(async () => {
      events.push('upstream')
      return toStream(JSON.stringify({ columnMetas: [{ label: 'A' }], results: [['1']] }))
    })
    expect(await runToEnd(deps, { exporter })).toEqual({ state: 'SUCCESSFUL' })
    expect(events).toEqual(['warm', 'upstream', 'export'])
  })
})
