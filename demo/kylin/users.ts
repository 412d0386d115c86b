/**
 * The emulator's users, as in Kylin 2–4's default kylinSecurity.xml, and who a request is:
 * HTTP Basic, or the JSESSIONID cookie handed out at /kylin/api/user/authentication.
 */
import { randomBytes } from 'node:crypto'

export interface KylinUser {
  username: string
  authorities: string[]
}

export const KYLIN_USERS: readonly (KylinUser & { password: string })[] = [
  {
    username: 'ADMIN',
    password: 'KYLIN',
    authorities: ['ROLE_ADMIN', 'ROLE_MODELER', 'ROLE_ANALYST'],
  },
  { username: 'MODELER', password: 'MODELER', authorities: ['ROLE_MODELER', 'ROLE_ANALYST'] },
  { username: 'ANALYST', password: 'ANALYST', authorities: ['ROLE_ANALYST'] },
]

const MAX_SESSIONS = 10_000

export interface Sessions {
  /** A new session id for `user`. */
  open(user: KylinUser): string
  find(id: string): KylinUser | undefined
}

export function createSessions(): Sessions {
  const sessions = new Map<string, KylinUser>()
  return {
    open(user) {
      // Tomcat's form: 32 upper-case hex digits.
      const id = randomBytes(16).toString('hex').toUpperCase()
      sessions.set(id, user)
      if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value!)
      return id
    },
    find: (id) => sessions.get(id),
  }
}

/** The user of `Authorization: Basic …`; `null` when absent, malformed or wrong. */
export function findBasicUser(authorization: string | undefined): KylinUser | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '')
  if (!match) return null
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return null
  const username = decoded.slice(0, colon)
  const password = decoded.slice(colon + 1)
  const user = KYLIN_USERS.find((u) => u.username === username && u.password === password)
  return user ? { username: user.username, authorities: [...user.authorities] } : null
}

export function findSessionId(cookie: string | undefined): string | undefined {
  return /(?:^|;\s*)JSESSIONID=([^;\s]+)/.exec(cookie ?? '')?.[1]
}
