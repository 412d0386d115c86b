/** Who may act on a query: its submitter or an admin, nobody else. */
import { describe, expect, it } from 'vitest'
import { mayAccess } from '../../src/identity/ownership.ts'

const user = (username: string, isAdmin = false) => ({
  username,
  authorities: isAdmin ? ['ROLE_ADMIN'] : [],
  isAdmin,
})

describe('identity/ownership', () => {
  it('lets the submitter act on their own query', () => {
    expect(mayAccess(user('ANALYST'), { owner: 'ANALYST' })).toBe(true)
  })

  it('lets an admin act on anyone’s query', () => {
    expect(mayAccess(user('ADMIN', true), { owner: 'ANALYST' })).toBe(true)
  })

  it('refuses another user, whatever the case of the names', () => {
    expect(mayAccess(user('MODELER'), { owner: 'ANALYST' })).toBe(false)
    expect(mayAccess(user('analyst'), { owner: 'ANALYST' })).toBe(false)
  })
})
