/**
 * A real loopback fake of a sync-only Apache Kylin 2.x–4.x for end-to-end tests.
 * Tests only, Node only (node:http on 127.0.0.1, an ephemeral port).
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeKylinOptions {
  /** Shape of `/kylin/api/user/authentication`: Kylin 2–4 `{userDetails}` (default) or Kylin 5. */
  authShape?: 'kylin4' | 'kylin5'
  /** Added before every built-in `/kylin/api/query` answer. */
  queryDelayMs?: number
  /**
   * Shape of `/kylin/api/query` answers: a bare SQLResponse (Kylin 2–4, default) or Kylin 5's,
   * inside `{"code":"000","data":…,"msg":""}`; with `kylin5`, SQL containing `error_envelope_200`
   * gets `{"code":"999","msg":…}` with HTTP 200.
   */
  queryShape?: 'kylin4' | 'kylin5'
  /** Users this fake knows besides FAKE_USERS (a user known on one upstream only). */
  extraUsers?: Record<string, { password: string; authorities: string[] }>
}

export interface RecordedRequest {
  method: string
  /** The path without the query string. */
  path: string
  /** The raw query string without `?` (`''` when none). */
  query: string
  /** Lower-cased names; repeated headers joined with `, `. */
  headers: Record<string, string>
  /** The raw body, recorded for `/kylin/api/query` only. */
  body?: string
}

export interface FakeUser {
  username: string
  authorities: string[]
}

export interface QueryHandlerContext {
  /** The raw request body (already read from `req`). */
  body: string
  /** The parsed JSON body, or `null` when it is not JSON. */
  json: unknown
  /** `json.sql` when it is a string, else `''`. */
  sql: string
  /** Who the credentials (Basic or JSESSIONID cookie) belong to, `null` when nobody. */
  user: FakeUser | null
  /** The fake's base URL, e.g. `http://127.0.0.1:38211`. */
  url: string
  /** Answers as the fake would have without a handler (auth, delays, built-in SQL). */
  fallback(): Promise<void>
}

export type QueryHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: QueryHandlerContext,
) => void | Promise<void>

export interface FakeKylin {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:38211`. */
  url: string
  close(): Promise<void>
  requests: RecordedRequest[]
  /** `/kylin/api/query` requests whose response has not yet closed. */
  readonly inFlight: number
  readonly maxInFlight: number
  /** Takes over `/kylin/api/query` with raw node:http control; `null` restores the default. */
  setQueryHandler(handler: QueryHandler | null): void
}

export const FAKE_USERS: Record<string, { password: string; authorities: string[] }> = {
  ADMIN: { password: 'KYLIN', authorities: ['ROLE_ADMIN', 'ROLE_MODELER', 'ROLE_ANALYST'] },
  ANALYST: { password: 'ANALYST', authorities: ['ROLE_ANALYST'] },
  MODELER: { password: 'MODELER', authorities: ['ROLE_MODELER', 'ROLE_ANALYST'] },
}

/** `Authorization` header values for the fake's users. */
export const BASIC = {
  ADMIN: basicAuth('ADMIN', 'KYLIN'),
  ANALYST: basicAuth('ANALYST', 'ANALYST'),
  MODELER: basicAuth('MODELER', 'MODELER'),
} as const

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`
}

interface ColumnSpec {
  name: string
  type: 'BIGINT' | 'INTEGER' | 'SMALLINT' | 'DECIMAL' | 'DATE' | 'VARCHAR'
  nullable?: boolean
  precision?: number
}

const SQL_TYPES = {
  BIGINT: { columnType: -5, displaySize: 19, precision: 19, scale: 0 },
  INTEGER: { columnType: 4, displaySize: 10, precision: 10, scale: 0 },
  SMALLINT: { columnType: 5, displaySize: 5, precision: 5, scale: 0 },
  DECIMAL: { columnType: 3, displaySize: 21, precision: 19, scale: 4 },
  DATE: { columnType: 91, displaySize: 10, precision: 0, scale: 0 },
  VARCHAR: { columnType: 12, displaySize: 256, precision: 256, scale: 0 },
} as const

export const KYLIN_SALES_COLUMNS: ColumnSpec[] = [
  { name: 'TRANS_ID', type: 'BIGINT' },
  { name: 'PART_DT', type: 'DATE' },
  { name: 'LSTG_FORMAT_NAME', type: 'VARCHAR' },
  { name: 'LEAF_CATEG_ID', type: 'BIGINT' },
  { name: 'LSTG_SITE_ID', type: 'INTEGER' },
  { name: 'SLR_SEGMENT_CD', type: 'SMALLINT' },
  { name: 'PRICE', type: 'DECIMAL' },
  { name: 'ITEM_COUNT', type: 'BIGINT' },
  { name: 'SELLER_ID', type: 'BIGINT' },
  { name: 'BUYER_ID', type: 'BIGINT' },
  { name: 'OPS_USER_ID', type: 'VARCHAR' },
  { name: 'OPS_REGION', type: 'VARCHAR' },
  { name: 'ITEM_ID', type: 'VARCHAR' },
]

/** learn_kylin-like rows; the tricky cells are: null, comma, quote, newline, non-ASCII. */
export const KYLIN_SALES_ROWS: (string | null)[][] = [
  [
    '0',
    '2012-12-14',
    'Others',
    '88750',
    '0',
    '11',
    '36.2828',
    '4',
    '10000349',
    '10002313',
    'ANALYST',
    'Beijing',
    'ITEM-JS83',
  ],
  [
    '1',
    '2012-08-28',
    'Others',
    '175750',
    '0',
    '13',
    '23.8563',
    '20',
    '10000927',
    '10004376',
    'ADMIN',
    'Shanghai',
    null,
  ],
  [
    '2',
    '2012-02-16',
    'ABIN',
    '148324',
    '15',
    '13',
    '82.3277',
    '18',
    '10000005',
    '10006710',
    'ADMIN',
    'Hongkong, Kowloon',
    'ITEM-A9C1',
  ],
  [
    '3',
    '2013-10-19',
    'FP-non GTC',
    '37831',
    '0',
    '13',
    '47.1855',
    '3',
    '10000392',
    '10003717',
    'ADMIN',
    'Beijing',
    'ITEM-"Q"7',
  ],
  [
    '4',
    '2012-10-22',
    'Auction',
    '140746',
    '100',
    '11',
    '92.2034',
    '11',
    '10000128',
    '10000761',
    'MODELER',
    'Shanghai',
    'ITEM-\nNL2',
  ],
  [
    '5',
    '2013-01-25',
    'FP-GTC',
    '16509',
    '0',
    '16',
    '56.4563',
    '20',
    '10000095',
    '10002557',
    'ANALYST',
    '上海',
    'ITEM-上海5',
  ],
]

/** Columns of `select * from rows_<n>`. */
export const ROWS_COLUMNS: ColumnSpec[] = [
  { name: 'ID', type: 'BIGINT', nullable: false },
  { name: 'NAME', type: 'VARCHAR' },
  { name: 'PRICE', type: 'DECIMAL' },
]

/** Row `i` (1-based) of `select * from rows_<n>`: deterministic, so tests can predict the CSV. */
export function toGeneratedRow(i: number): [string, string, string] {
  return [String(i), `NAME_${i}`, `${i % 1000}.${String(i % 10000).padStart(4, '0')}`]
}

const ROWS_PER_WRITE = 500

const UNAUTHORIZED_PAGE =
  '<!doctype html><html lang="en"><head><title>HTTP Status 401 – Unauthorized</title>' +
  '<style type="text/css">body {font-family:Tahoma,Arial,sans-serif;} h1 {font-size:22px;}</style>' +
  '</head><body><h1>HTTP Status 401 – Unauthorized</h1><hr class="line" />' +
  '<p><b>Type</b> Status Report</p><p><b>Message</b> Unauthorized</p>' +
  '<p><b>Description</b> The request has not been applied because it lacks valid authentication ' +
  'credentials for the target resource.</p><hr class="line" /><h3>Apache Tomcat/8.5.33</h3>' +
  '</body></html>'

export async function startFakeKylin(options: FakeKylinOptions = {}): Promise<FakeKylin> {
  const authShape = options.authShape ?? 'kylin4'
  const queryShape = options.queryShape ?? 'kylin4'
  const users = { ...FAKE_USERS, ...options.extraUsers }
  /** A result in this fake's shape: Kylin 5 wraps it in its envelope. */
  const toQueryAnswer = (response: Record<string, unknown>) =>
    queryShape === 'kylin5' ? { code: '000', data: response, msg: '' } : response
  const queryDelayMs = options.queryDelayMs ?? 0
  const sessions = new Map<string, FakeUser>()
  const requests: RecordedRequest[] = []
  let queryHandler: QueryHandler | null = null
  let inFlight = 0
  let maxInFlight = 0
  let baseUrl = ''

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        sendText(res, 500, 'text/plain', `fake-kylin failed: ${String(error)}`)
      } else {
        res.destroy()
      }
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = new URL(req.url ?? '/', 'http://fake')
    const path = target.pathname
    const query = target.search.slice(1)
    const method = req.method ?? 'GET'
    const headers = toHeaderRecord(req)
    const body = await readBody(req)
    requests.push({
      method,
      path,
      query,
      headers,
      ...(path === '/kylin/api/query' ? { body } : {}),
    })
    const user = identify(headers)

    if (path === '/kylin/api/user/authentication') {
      return answerAuthentication(req, res, user)
    }
    if (path === '/kylin/api/query') {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      res.once('close', () => inFlight--)
      if (method !== 'POST') return sendText(res, 405, 'text/html;charset=utf-8', errorPage(405))
      const json = parseJson(body)
      const sql = isRecord(json) && typeof json.sql === 'string' ? json.sql : ''
      const fallback = () => answerQuery(req, res, user, json, sql)
      if (queryHandler) {
        return queryHandler(req, res, { body, json, sql, user, url: baseUrl, fallback })
      }
      return fallback()
    }
    if (path.startsWith('/kylin/api/') && !user) return sendUnauthorized(res)
    if (path === '/kylin' || path.startsWith('/kylin/')) {
      res.setHeader('Set-Cookie', 'echo=1; Path=/kylin')
      return sendJson(res, 200, { method, path, query, headers, body })
    }
    return sendText(res, 404, 'text/html;charset=utf-8', errorPage(404))
  }

  function identify(headers: Record<string, string>): FakeUser | null {
    const authorization = headers.authorization
    // Spring's BasicAuthenticationFilter re-authenticates whenever the header is present, so a
    // bad header fails even alongside a good session cookie.
    if (authorization !== undefined) return checkBasic(authorization, users)
    const sessionId = /(?:^|;\s*)JSESSIONID=([^;]+)/.exec(headers.cookie ?? '')?.[1]
    return (sessionId && sessions.get(sessionId)) || null
  }

  function answerAuthentication(
    req: IncomingMessage,
    res: ServerResponse,
    user: FakeUser | null,
  ): void {
    if (!user) return sendUnauthorized(res)
    if (req.method === 'POST') {
      // session-fixation-protection="newSession": every login gets a fresh id.
      const sessionId = randomBytes(16).toString('hex').toUpperCase()
      sessions.set(sessionId, user)
      res.setHeader('Set-Cookie', `JSESSIONID=${sessionId}; Path=/kylin; HttpOnly`)
    }
    const authorities = user.authorities.map((authority) => ({ authority }))
    if (authShape === 'kylin5') {
      return sendJson(res, 200, {
        code: '000',
        data: {
          username: user.username,
          authorities: [...authorities, { authority: 'ALL_USERS' }],
          disabled: false,
          locked: false,
          uuid: '0205dac6-3d5a-4ac0-9b74-0b4a2c8e3f11',
          last_modified: 1574756819619,
          create_time: 1563346648008,
          version: '4.0.0.0',
          mvcc: 24,
          locked_time: 0,
          wrong_time: 0,
          first_login_failed_time: 0,
        },
        msg: '',
      })
    }
    return sendJson(res, 200, {
      userDetails: {
        password: null,
        username: user.username,
        authorities,
        accountNonExpired: true,
        accountNonLocked: true,
        credentialsNonExpired: true,
        enabled: true,
      },
    })
  }

  async function answerQuery(
    req: IncomingMessage,
    res: ServerResponse,
    user: FakeUser | null,
    json: unknown,
    sql: string,
  ): Promise<void> {
    if (!user) return sendUnauthorized(res)
    const requestUrl = `http://${req.headers.host ?? '127.0.0.1'}/kylin/api/query`
    if (!isRecord(json)) {
      return sendKylinError(
        res,
        400,
        'Required request body is missing or is not JSON.',
        requestUrl,
      )
    }
    if (typeof json.project !== 'string' || !json.project.trim()) {
      return sendKylinError(res, 400, 'Project name should not be empty.', requestUrl)
    }
    if (!sql.trim()) return sendKylinError(res, 400, 'SQL should not be empty.', requestUrl)

    const sleepMs = Number(/sleep_ms_(\d+)/i.exec(sql)?.[1] ?? 0)
    const waited = await wait(res, queryDelayMs + sleepMs)
    if (!waited) return

    const normalized = sql
      .replace(/\/\*[\s\S]*?\*\//g, ' ')
      .replace(/--[^\n]*/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .replace(/\s*;$/, '')
      .toLowerCase()

    const missing = /no_such_table/i.exec(sql)
    if (missing) {
      const before = sql.slice(0, missing.index).split('\n')
      const line = before.length
      const column = (before.at(-1)?.length ?? 0) + 1
      const message =
        `From line ${line}, column ${column} to line ${line}, column ${column + 12}: ` +
        `Object 'NO_SUCH_TABLE' not found\nwhile executing SQL: "${sql}"`
      return sendKylinError(res, 500, message, requestUrl)
    }
    if (queryShape === 'kylin5' && /error_envelope_200/i.test(sql)) {
      return sendJson(res, 200, {
        code: '999',
        data: null,
        msg: `Table 'ERROR_ENVELOPE_200' not found in project\nwhile executing SQL: "${sql}"`,
      })
    }
    if (/is_exception/i.test(sql)) {
      return sendJson(
        res,
        200,
        toQueryAnswer({
          columnMetas: null,
          results: null,
          cube: null,
          affectedRowCount: 0,
          isException: true,
          exceptionMessage: `java.lang.RuntimeException: is_exception was requested\nwhile executing SQL: "${sql}"`,
          duration: 3,
          totalScanCount: 0,
          totalScanBytes: 0,
          hitExceptionCache: false,
          storageCacheUsed: false,
          traceUrl: null,
          pushDown: false,
          partial: false,
        }),
      )
    }
    const generated = /^select \* from rows_(\d+)$/.exec(normalized)
    if (generated) {
      return streamGeneratedRows(res, Number(generated[1]))
    }
    if (normalized === 'select * from kylin_sales') {
      return sendSqlResponse(
        res,
        KYLIN_SALES_COLUMNS,
        KYLIN_SALES_ROWS,
        'CUBE[name=kylin_sales_cube]',
      )
    }
    if (normalized === `select '123"','123'` || normalized === `select '123"', '123'`) {
      const columns: ColumnSpec[] = [
        { name: 'EXPR$0', type: 'VARCHAR', nullable: false, precision: 4 },
        { name: 'EXPR$1', type: 'VARCHAR', nullable: false, precision: 3 },
      ]
      return sendSqlResponse(res, columns, [['123"', '123']], null)
    }
    if (normalized === 'select count(*) from kylin_sales') {
      const columns: ColumnSpec[] = [{ name: 'EXPR$0', type: 'BIGINT', nullable: false }]
      return sendSqlResponse(res, columns, [['10000']], 'CUBE[name=kylin_sales_cube]')
    }
    const columns: ColumnSpec[] = [{ name: 'EXPR$0', type: 'INTEGER', nullable: false }]
    return sendSqlResponse(res, columns, [['1']], null)
  }

  async function streamGeneratedRows(res: ServerResponse, count: number): Promise<void> {
    res.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8' })
    const [open, close] =
      queryShape === 'kylin5' ? ['{"code":"000","data":', ',"msg":""}'] : ['', '']
    if (
      !(await write(
        res,
        `${open}{"columnMetas":${JSON.stringify(toColumnMetas(ROWS_COLUMNS))},"results":[`,
      ))
    ) {
      return
    }
    for (let start = 1; start <= count; start += ROWS_PER_WRITE) {
      const end = Math.min(count, start + ROWS_PER_WRITE - 1)
      const parts: string[] = []
      for (let i = start; i <= end; i++) parts.push(JSON.stringify(toGeneratedRow(i)))
      const chunk = (start === 1 ? '' : ',') + parts.join(',')
      if (!(await write(res, chunk))) return
    }
    const trailer = JSON.stringify(toTrailer('CUBE[name=rows_cube]', count)).slice(1)
    res.end(`],${trailer}${close}`)
  }

  function toTrailer(cube: string | null, rows: number): Record<string, unknown> {
    return {
      cube,
      affectedRowCount: 0,
      isException: false,
      exceptionMessage: null,
      duration: 42,
      totalScanCount: rows,
      totalScanBytes: rows * 24,
      hitExceptionCache: false,
      storageCacheUsed: false,
      traceUrl: null,
      pushDown: false,
      partial: false,
    }
  }

  function sendSqlResponse(
    res: ServerResponse,
    columns: ColumnSpec[],
    rows: (string | null)[][],
    cube: string | null,
  ): void {
    // Spread in Jackson's order: columnMetas and results before the trailing fields.
    sendJson(
      res,
      200,
      toQueryAnswer({
        columnMetas: toColumnMetas(columns),
        results: rows,
        ...toTrailer(cube, rows.length),
      }),
    )
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  baseUrl = `http://127.0.0.1:${port}`

  return {
    url: baseUrl,
    requests,
    get inFlight() {
      return inFlight
    },
    get maxInFlight() {
      return maxInFlight
    },
    setQueryHandler(handler) {
      queryHandler = handler
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        // Keep-alive sockets and parked slow queries would otherwise hold close() open.
        server.closeAllConnections()
      })
    },
  }
}

function toColumnMetas(columns: ColumnSpec[]): Record<string, unknown>[] {
  return columns.map((column) => {
    const sqlType = SQL_TYPES[column.type]
    const precision = column.precision ?? sqlType.precision
    return {
      isNullable: column.nullable === false ? 0 : 1,
      displaySize: column.precision ?? sqlType.displaySize,
      label: column.name,
      name: column.name,
      schemaName: null,
      catelogName: null,
      tableName: null,
      precision,
      scale: sqlType.scale,
      columnType: sqlType.columnType,
      columnTypeName: column.type,
      readOnly: true,
      writable: false,
      caseSensitive: column.type === 'VARCHAR',
      searchable: false,
      currency: false,
      signed: column.type !== 'VARCHAR' && column.type !== 'DATE',
      autoIncrement: false,
      definitelyWritable: false,
    }
  })
}

function sendKylinError(res: ServerResponse, status: number, message: string, url: string): void {
  const exception =
    status === 400
      ? 'org.apache.kylin.rest.exception.BadRequestException'
      : 'org.apache.kylin.rest.exception.InternalErrorException'
  sendJson(res, status, {
    code: '999',
    data: null,
    msg: message,
    stacktrace:
      `${exception}: ${message}\n` +
      '\tat org.apache.kylin.rest.service.QueryService.doQueryWithCache(QueryService.java:486)\n' +
      '\tat org.apache.kylin.rest.controller.QueryController.query(QueryController.java:86)\n',
    exception: message,
    url,
  })
}

function sendUnauthorized(res: ServerResponse): void {
  // Kylin's UnauthorisedEntryPoint calls sendError(401) with no WWW-Authenticate header.
  sendText(res, 401, 'text/html;charset=utf-8', UNAUTHORIZED_PAGE)
}

function errorPage(status: number): string {
  const reason = status === 404 ? 'Not Found' : 'Method Not Allowed'
  return (
    `<!doctype html><html lang="en"><head><title>HTTP Status ${status} – ${reason}</title></head>` +
    `<body><h1>HTTP Status ${status} – ${reason}</h1><hr class="line" /><h3>Apache Tomcat/8.5.33</h3></body></html>`
  )
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, 'application/json;charset=UTF-8', JSON.stringify(body))
}

function sendText(res: ServerResponse, status: number, contentType: string, text: string): void {
  if (res.destroyed) return
  const bytes = Buffer.from(text, 'utf8')
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': bytes.byteLength })
  res.end(bytes)
}

/** Writes with backpressure; resolves `false` when the client went away, so the caller stops. */
export function write(res: ServerResponse, chunk: string | Uint8Array): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false)
  if (res.write(chunk)) return Promise.resolve(true)
  return new Promise((resolve) => {
    const onDrain = () => {
      res.off('close', onClose)
      resolve(true)
    }
    const onClose = () => {
      res.off('drain', onDrain)
      resolve(false)
    }
    res.once('drain', onDrain)
    res.once('close', onClose)
  })
}

/** Resolves `false` when the client disconnected during the wait. */
function wait(res: ServerResponse, ms: number): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(!res.destroyed)
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      res.off('close', onClose)
      resolve(!res.destroyed)
    }, ms)
    const onClose = () => {
      clearTimeout(timer)
      resolve(false)
    }
    res.once('close', onClose)
  })
}

function checkBasic(
  authorization: string,
  users: Record<string, { password: string; authorities: string[] }>,
): FakeUser | null {
  const match = /^Basic\s+(\S+)$/i.exec(authorization.trim())
  if (!match?.[1]) return null
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return null
  const username = decoded.slice(0, colon)
  const user = Object.hasOwn(users, username) ? users[username] : undefined
  if (!user || user.password !== decoded.slice(colon + 1)) return null
  return { username, authorities: [...user.authorities] }
}

function toHeaderRecord(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return headers
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
