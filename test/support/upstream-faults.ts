/**
 * Upstream faults: a Kylin that misbehaves on purpose (stalls, resets, error pages, envelopes,
 * broken JSON), each with what a person must read in the FAILED `info`. Shared by the fault
 * matrix on Node and inside workerd. Tests only, Node only (the handlers serve node:http).
 */
import type { ServerResponse } from 'node:http'
import { expect } from 'vitest'
import type { QueryHandler } from './fake-kylin.ts'

/** UPSTREAM_TIMEOUT_MS of the gateways under fault. */
export const TIMEOUT_MS = 1500

export type Status = { status?: string; info?: string }

export interface Fault {
  name: string
  handler: QueryHandler
  /** What a person must read in `info` to act on it. */
  expectInfo(info: string): void
  /** Ends only when UPSTREAM_TIMEOUT_MS runs out. */
  slow?: boolean
}

// ---- upstream answers ------------------------------------------------------------------------

export const JSON_TYPE = { 'Content-Type': 'application/json;charset=UTF-8' }
export const COLUMN_METAS = [
  { label: 'ID', name: 'ID', columnTypeName: 'BIGINT' },
  { label: 'NAME', name: 'NAME', columnTypeName: 'VARCHAR' },
]
const rowsJson = (count: number) =>
  Array.from({ length: count }, (_, i) => JSON.stringify([String(i), `NAME_${i}`])).join(',')
/** A complete, valid Kylin answer: long enough that a cut in the middle leaves rows behind. */
const FULL_ANSWER = `{"columnMetas":${JSON.stringify(COLUMN_METAS)},"results":[${rowsJson(2000)}],"isException":false,"exceptionMessage":null}`
const HALF_ANSWER = FULL_ANSWER.slice(0, FULL_ANSWER.length >> 1)

const KYLIN_EXCEPTION =
  'Error while executing SQL "select * from kylin_sales": The cube kylin_sales_cube is being rebuilt\n' +
  'while executing SQL: "select * from kylin_sales"'

const TOMCAT_500_PAGE =
  '<!doctype html><html lang="en"><head><title>HTTP Status 500 – Internal Server Error</title>' +
  '<style type="text/css">body {font-family:Tahoma,Arial,sans-serif;} h1 {font-size:22px;}</style>' +
  '</head><body><h1>HTTP Status 500 – Internal Server Error</h1><hr class="line" />' +
  '<p><b>Type</b> Exception Report</p><p><b>Message</b> Request processing failed; nested ' +
  'exception is java.lang.NullPointerException</p><p><b>Description</b> The server encountered ' +
  'an unexpected condition that prevented it from fulfilling the request.</p><p><b>Exception' +
  '</b></p><pre>org.springframework.web.util.NestedServletException: Request processing failed\n' +
  '\tat org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:982)\n' +
  '</pre><hr class="line" /><h3>Apache Tomcat/8.5.33</h3></body></html>'

/** Kylin 2–4's error body, as a proxy or filter might send it with HTTP 200. */
const KYLIN4_ERROR_ENVELOPE = JSON.stringify({
  code: '999',
  data: null,
  msg: KYLIN_EXCEPTION,
  stacktrace:
    `org.apache.kylin.rest.exception.InternalErrorException: ${KYLIN_EXCEPTION}\n` +
    '\tat org.apache.kylin.rest.service.QueryService.doQueryWithCache(QueryService.java:486)\n',
  exception: KYLIN_EXCEPTION,
  url: 'http://kylin:7070/kylin/api/query',
})

/** A Kylin 5 error envelope whose msg runs into a Java stack trace. */
const KYLIN5_ERROR_ENVELOPE = JSON.stringify({
  code: '999',
  data: null,
  msg:
    'java.lang.IllegalStateException: Cannot read the cube kylin_sales_cube\n' +
    '\tat org.apache.kylin.query.engine.QueryExec.executeQuery(QueryExec.java:200)\n' +
    '\tat org.apache.kylin.rest.service.QueryService.queryWithCache(QueryService.java:508)\n',
  stacktrace: 'java.lang.IllegalStateException\n\tat org.apache.kylin.Q.q(Q.java:1)\n',
  error_code: 'KE-010000003',
})

/** Jetty's default error page (showStacks): the trace comes right after the first words. */
const JETTY_500_PAGE =
  '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n' +
  '<title>Error 500 Server Error</title>\n</head>\n<body><h2>HTTP ERROR 500</h2>\n' +
  '<p>Problem accessing /kylin/api/query. Reason:\n<pre>    Server Error</pre></p>' +
  '<h3>Caused by:</h3><pre>java.lang.NullPointerException\n' +
  '\tat org.apache.kylin.rest.service.QueryService.doQueryWithCache(QueryService.java:486)\n' +
  '\tat org.apache.kylin.rest.controller.QueryController.query(QueryController.java:86)\n' +
  '</pre>\n<hr><i><small>Powered by Jetty://</small></i><hr/>\n</body>\n</html>\n'

const tomcatPage = (status: number, reason: string) =>
  `<!doctype html><html lang="en"><head><title>HTTP Status ${status} – ${reason}</title></head>` +
  `<body><h1>HTTP Status ${status} – ${reason}</h1><hr class="line" />` +
  `<p><b>Type</b> Status Report</p><h3>Apache Tomcat/8.5.33</h3></body></html>`

function sendPage(res: ServerResponse, status: number, contentType: string, text: string) {
  const bytes = Buffer.from(text, 'utf8')
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': bytes.byteLength })
  res.end(bytes)
}

/** Headers with the full length, then half of the body, flushed to the wire. */
function writeHalf(res: ServerResponse): Promise<void> {
  res.writeHead(200, { ...JSON_TYPE, 'Content-Length': Buffer.byteLength(FULL_ANSWER) })
  return new Promise((resolve) => res.write(HALF_ANSWER, () => resolve()))
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** `within 1500 ms (UPSTREAM_TIMEOUT_MS)` from the runner, or undici's own header/body timer. */
const TIME_LIMIT = /within 1500 ms|UPSTREAM_TIMEOUT_MS|in time|stalled|timed out/i

const LONG_SQL_CAUSE = "From line 1, column 8 to line 1, column 12: Column 'C0' not found"
const LONG_SQL = `select ${Array.from({ length: 20_000 }, (_, i) => `c${i}`).join(', ')} from t`
/** Kylin 2–4's SQL error for a long SQL: the SQL quoted twice, then a trace, past 64 KiB. */
const LONG_SQL_ERROR_ENVELOPE = JSON.stringify({
  code: '999',
  data: null,
  msg: `${LONG_SQL_CAUSE}\nwhile executing SQL: "${LONG_SQL}"`,
  stacktrace: 'org.apache.kylin.rest.exception.InternalErrorException\n',
  exception: `${LONG_SQL_CAUSE}\nwhile executing SQL: "${LONG_SQL}"`,
  url: 'http://kylin:7070/kylin/api/query',
})

/** A whole result inside Kylin 5's (and KE 4's) `{"code":"000","data":…}` envelope. */
export const WRAPPED_ANSWER = `{"code":"000","data":${FULL_ANSWER},"msg":""}`
/** Its CSV: the rows of FULL_ANSWER. */
export const WRAPPED_CSV = Array.from({ length: 2000 }, (_, i) => `${i},NAME_${i}\n`).join('')

export const FAULTS: Fault[] = [
  {
    name: 'no response headers within the timeout',
    slow: true,
    handler: () => {
      // Never answers: like a Kylin stuck in a long query.
    },
    expectInfo(info) {
      expect(info).toMatch(TIME_LIMIT)
      expect(info).not.toMatch(/cannot reach/i)
    },
  },
  {
    name: 'the body stalls half-way',
    slow: true,
    handler: async (_req, res) => {
      await writeHalf(res)
    },
    expectInfo(info) {
      expect(info).toMatch(TIME_LIMIT)
      expect(info).toMatch(/no result was kept|stopped it|stalled/i)
    },
  },
  {
    name: 'the connection is reset mid-body',
    handler: async (_req, res) => {
      await writeHalf(res)
      // Let the headers and the first half reach the gateway before the RST.
      await sleep(30)
      res.socket?.resetAndDestroy()
    },
    expectInfo(info) {
      expect(info).toMatch(/broke off/)
      // undici says reset or closed; workerd says "Network connection lost".
      expect(info).toMatch(/connection (reset|closed|lost)|other side closed/)
    },
  },
  {
    name: 'HTTP 500 with an HTML page',
    handler: (_req, res) => sendPage(res, 500, 'text/html;charset=utf-8', TOMCAT_500_PAGE),
    expectInfo(info) {
      expect(info).toMatch(/^The upstream Kylin answered HTTP 500 Internal Server Error: /)
      expect(info).toContain('NullPointerException')
      expect(info).not.toMatch(/<\/?[a-z!][^>]*>/i)
      expect(info).not.toContain('font-family')
      expect(info.length).toBeLessThan(400)
    },
  },
  {
    name: 'HTTP 401 from the query call',
    handler: (_req, res) =>
      sendPage(res, 401, 'text/html;charset=utf-8', tomcatPage(401, 'Unauthorized')),
    expectInfo(info) {
      expect(info).toBe(
        'The upstream Kylin answered 401 Unauthorized: the credentials were rejected.',
      )
    },
  },
  {
    name: 'HTTP 403 from the query call',
    handler: (_req, res) =>
      sendPage(res, 403, 'text/html;charset=utf-8', tomcatPage(403, 'Forbidden')),
    expectInfo(info) {
      expect(info).toBe(
        'The upstream Kylin answered 403 Forbidden: these credentials are not allowed to do this.',
      )
    },
  },
  {
    name: 'a 200 with truncated JSON',
    handler: (_req, res) => sendPage(res, 200, JSON_TYPE['Content-Type'], HALF_ANSWER),
    expectInfo(info) {
      expect(info).toMatch(/ended before the JSON was complete/)
      expect(info).toMatch(/no result was kept/)
    },
  },
  {
    name: 'a 200 with invalid JSON',
    handler: (_req, res) =>
      sendPage(
        res,
        200,
        JSON_TYPE['Content-Type'],
        `{"columnMetas":${JSON.stringify(COLUMN_METAS)},"results":[${rowsJson(500)},["1",oops]]}`,
      ),
    expectInfo(info) {
      expect(info).toMatch(/is not valid JSON at byte \d+/)
      expect(info).toMatch(/no result was kept/)
    },
  },
  {
    name: 'a 200 with isException before results',
    handler: (_req, res) =>
      sendPage(
        res,
        200,
        JSON_TYPE['Content-Type'],
        `{"columnMetas":${JSON.stringify(COLUMN_METAS)},"isException":true,` +
          `"exceptionMessage":${JSON.stringify(KYLIN_EXCEPTION)},"results":[${rowsJson(2000)}]}`,
      ),
    expectInfo(info) {
      expect(info).toBe(KYLIN_EXCEPTION.replace(/\r?\n|\r/g, ''))
    },
  },
  {
    name: 'a 200 with isException after results',
    handler: (_req, res) =>
      sendPage(
        res,
        200,
        JSON_TYPE['Content-Type'],
        `{"columnMetas":${JSON.stringify(COLUMN_METAS)},"results":[${rowsJson(2000)}],` +
          `"isException":true,"exceptionMessage":${JSON.stringify(KYLIN_EXCEPTION)}}`,
      ),
    expectInfo(info) {
      expect(info).toBe(KYLIN_EXCEPTION.replace(/\r?\n|\r/g, ''))
    },
  },
  {
    name: "a 200 with Kylin 2–4's error envelope",
    handler: (_req, res) => sendPage(res, 200, JSON_TYPE['Content-Type'], KYLIN4_ERROR_ENVELOPE),
    expectInfo(info) {
      expect(info).toBe(KYLIN_EXCEPTION.replace(/\r?\n|\r/g, ''))
    },
  },
  {
    name: 'a 200 with a Kylin 5 envelope whose msg carries a stack trace',
    handler: (_req, res) => sendPage(res, 200, JSON_TYPE['Content-Type'], KYLIN5_ERROR_ENVELOPE),
    expectInfo(info) {
      expect(info).toBe('java.lang.IllegalStateException: Cannot read the cube kylin_sales_cube')
    },
  },
  {
    name: 'a 200 with JSON that is not a query result',
    handler: (_req, res) => sendPage(res, 200, JSON_TYPE['Content-Type'], '{"hello":"world"}'),
    expectInfo(info) {
      expect(info).toBe(
        'The upstream Kylin answered JSON that is not a query result (neither "columnMetas" nor "results"; its members: "hello"); no result was kept. Check that KYLIN_UPSTREAM_URL points at Kylin itself.',
      )
    },
  },
  {
    name: 'HTTP 500 with a Kylin 2–4 SQL error for a long SQL, past the read limit',
    handler: (_req, res) => sendPage(res, 500, JSON_TYPE['Content-Type'], LONG_SQL_ERROR_ENVELOPE),
    expectInfo(info) {
      expect(info.startsWith(`${LONG_SQL_CAUSE}while executing SQL: "select c0, c1`)).toBe(true)
      expect(new TextEncoder().encode(info).length).toBeLessThanOrEqual(4096)
      expect(info).toMatch(/ … \[message cut: \d+ bytes in all\]$/)
    },
  },
  {
    name: 'HTTP 500 with an HTML page that starts with a stack trace',
    handler: (_req, res) => sendPage(res, 500, 'text/html;charset=utf-8', JETTY_500_PAGE),
    expectInfo(info) {
      expect(info).toMatch(/^The upstream Kylin answered HTTP 500 Internal Server Error: /)
      expect(info).toContain('NullPointerException')
      expect(info).not.toMatch(/<\/?[a-z!][^>]*>/i)
    },
  },
]

/** A message a person can act on: one line, no stack frames, no markup, not empty. */
export function expectReadable(info: string | undefined): asserts info is string {
  expect(typeof info).toBe('string')
  const text = info ?? ''
  expect(text.length).toBeGreaterThan(20)
  expect(text).not.toMatch(/[\r\n]/)
  expect(text).not.toMatch(/\bat \S+ ?\(\S+:\d+(:\d+)?\)/)
  expect(text).not.toMatch(/\(\S+\.(java|[cm]?[jt]s):\d+(:\d+)?\)/)
  expect(text).not.toMatch(/node_modules|\[object |undefined|TypeError|AbortError/)
}
