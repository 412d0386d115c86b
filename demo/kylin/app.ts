/**
 * The emulator's HTTP API: the parts of Kylin 2–4 the gateway and its users call —
 * POST /kylin/api/query, GET|POST /kylin/api/user/authentication, GET /kylin/api/projects, and
 * the metadata calls of BI clients (`metadata-routes.ts`).
 */
import { Hono, type Context } from 'hono'
import type { KylinDatabase } from './database.ts'
import { sendKylinError, sendUnauthorized } from './kylin-errors.ts'
import { addMetadataRoutes } from './metadata-routes.ts'
import { runKylinQuery } from './run-query.ts'
import { createSessions, findBasicUser, findSessionId, type KylinUser } from './users.ts'

type EmulatorEnv = { Variables: { user: KylinUser; sessionId: string | undefined } }

/** Fixed, so two runs list the same projects. */
const CREATED = Date.UTC(2024, 0, 1)

export function createKylinApp(db: KylinDatabase) {
  const sessions = createSessions()
  const app = new Hono<EmulatorEnv>()

  app.use('/kylin/api/*', async (c, next) => {
    const basic = findBasicUser(c.req.header('authorization'))
    const sessionId = findSessionId(c.req.header('cookie'))
    const user = basic ?? (sessionId ? sessions.find(sessionId) : undefined)
    // Wrong Basic credentials fail even with a live session, as Spring's Basic filter does.
    if (!user || (c.req.header('authorization') && !basic)) return sendUnauthorized(c)
    c.set('user', user)
    c.set('sessionId', basic ? undefined : sessionId)
    await next()
  })

  app.on(['GET', 'POST'], '/kylin/api/user/authentication', (c) => {
    const user = c.get('user')
    if (!c.get('sessionId')) {
      c.header('Set-Cookie', `JSESSIONID=${sessions.open(user)}; Path=/kylin; HttpOnly`)
    }
    // Kylin 2–4 renders the model, hence the `userDetails` wrapper.
    return c.json({
      userDetails: {
        password: null,
        username: user.username,
        authorities: user.authorities.map((authority) => ({ authority })),
        accountNonExpired: true,
        accountNonLocked: true,
        credentialsNonExpired: true,
        enabled: true,
      },
    })
  })

  app.get('/kylin/api/projects', (c) =>
    c.json(
      db.projects.map((p) => ({
        uuid: toProjectUuid(p.name),
        last_modified: CREATED,
        version: '2.3.0.20500',
        name: p.name,
        owner: 'ADMIN',
        status: 'ENABLED',
        create_time_utc: CREATED,
        description: p.description,
        realizations: [],
        tables: p.tables,
        models: [],
        ext_filters: [],
        override_kylin_properties: {},
      })),
    ),
  )

  addMetadataRoutes(app, db)

  // `prestate` is the same query for prepared-statement clients.
  app.post('/kylin/api/query', (c) => answerQuery(c))
  app.post('/kylin/api/query/prestate', (c) => answerQuery(c))

  async function answerQuery(c: Context<EmulatorEnv>) {
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      return sendKylinError(c, 400, 'The request body is not valid JSON.')
    }
    const request = (typeof body === 'object' && body !== null ? body : {}) as Record<
      string,
      unknown
    >
    const projectName = typeof request.project === 'string' ? request.project.trim() : ''
    const sql = typeof request.sql === 'string' ? request.sql : ''
    // The checks and messages of Kylin 2–4's QueryService, in its order.
    if (!projectName) return sendKylinError(c, 400, 'Project name should not be empty.')
    const project = db.findProject(projectName)
    if (!project) return sendKylinError(c, 400, `Cannot find project '${projectName}'.`)
    if (!sql.trim()) return sendKylinError(c, 400, 'SQL should not be empty.')

    const outcome = await runKylinQuery(db, {
      sql,
      project,
      limit: toCount(request.limit),
      offset: toCount(request.offset),
    })
    // Kylin 2–4 turns an isException answer into InternalErrorException: HTTP 500.
    if (!outcome.ok) return sendKylinError(c, 500, outcome.message)
    return c.body(outcome.body, 200, { 'Content-Type': 'application/json;charset=UTF-8' })
  }

  app.notFound((c) => sendKylinError(c, 404, `No handler for ${c.req.method} ${c.req.path}`))
  return app
}

function toCount(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.trunc(n) : 0
}

/** A stable UUID-shaped id per project name. */
function toProjectUuid(name: string): string {
  const hex = Buffer.from(name.padEnd(16, '_').slice(0, 16), 'utf8').toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}
