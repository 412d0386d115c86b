/**
 * A non-2xx upstream answer read into the message a person acts on: Kylin's own `msg`, even
 * when a long SQL makes the envelope larger than the gateway reads; no Java stack frames.
 */
import { describe, expect, it } from 'vitest'
import { UpstreamError } from '../../src/errors.ts'
import { startCall } from '../../src/upstream/call-failure.ts'
import { toCappedMessage } from '../../src/upstream/kylin-error.ts'
import { MAX_READ_BYTES } from '../../src/upstream/response-body.ts'
import { toStatusError } from '../../src/upstream/status-error.ts'

const CAUSE = "From line 1, column 15 to line 1, column 27: Object 'NO_SUCH_TABLE' not found"

function toError(status: number, body: string) {
  const response = new Response(body, { status, headers: { 'Content-Type': 'application/json' } })
  return toStatusError(response, startCall(undefined, undefined), (error) =>
    error instanceof UpstreamError ? error : new UpstreamError(String(error)),
  )
}

/** Kylin 2–4's answer to a SQL error: HTTP 500, the 999 envelope, the SQL quoted twice. */
function kylinSqlError(sql: string): string {
  const msg = `${CAUSE}\nwhile executing SQL: "${sql}"`
  return JSON.stringify({
    code: '999',
    data: null,
    msg,
    stacktrace: `org.apache.kylin.rest.exception.InternalErrorException: ${msg}\n${'\tat org.apache.kylin.rest.service.QueryService.doQueryWithCache(QueryService.java:478)\n'.repeat(200)}`,
    exception: msg,
    url: 'http://kylin:7070/kylin/api/query',
  })
}

describe('upstream/status-error', () => {
  it("gives Kylin's own message for a SQL error, in one line", async () => {
    const error = await toError(500, kylinSqlError('select * from no_such_table'))
    expect(error.message).toBe(`${CAUSE}while executing SQL: "select * from no_such_table"`)
    expect(error.upstreamStatus).toBe(500)
  })

  it("keeps Kylin's cause when a long SQL makes the envelope larger than the gateway reads", async () => {
    const sql = `select ${Array.from({ length: 20_000 }, (_, i) => `c${i}`).join(', ')} from t`
    const body = kylinSqlError(sql)
    expect(body.length).toBeGreaterThan(MAX_READ_BYTES)
    const error = await toError(500, body)
    expect(error.message.startsWith(`${CAUSE}while executing SQL: "select c0, c1, c2`)).toBe(true)
    expect(error.message).not.toContain('{"code"')
  })

  it('drops the Java stack frames some Kylin versions append to msg', async () => {
    const msg = `${CAUSE}\n\tat org.apache.calcite.sql.validate.SqlValidatorImpl.validate(SqlValidatorImpl.java:123)\n\tat java.base/java.lang.Thread.run(Thread.java:829)`
    const error = await toError(500, JSON.stringify({ code: '999', data: null, msg }))
    expect(error.message).toBe(CAUSE)
  })

  it('falls back to the status line and an excerpt for a page that is not an envelope', async () => {
    const error = await toError(502, '<html><body>Bad gateway</body></html>')
    expect(error.message).toContain('The upstream Kylin answered HTTP 502 Bad Gateway')
  })
})

describe('upstream/kylin-error toCappedMessage', () => {
  it('keeps a short message as it is', () => {
    expect(toCappedMessage('short', 4096)).toBe('short')
  })

  it('cuts at a character boundary, within the bound, and says so', () => {
    const text = '表'.repeat(3000) // 9,000 bytes of three-byte characters
    const capped = toCappedMessage(text, 4096)
    expect(new TextEncoder().encode(capped).length).toBeLessThanOrEqual(4096)
    expect(capped).toMatch(/^表+ … \[message cut: 9000 bytes in all\]$/)
    expect(capped).not.toContain('\uFFFD')
  })

  it('never splits a surrogate pair', () => {
    const capped = toCappedMessage('😀'.repeat(2000), 1000)
    expect(capped).toMatch(/^(?:😀)+ … \[message cut: 8000 bytes in all\]$/u)
  })
})
