/**
 * Who is calling: the credentials forwarded to the upstream unchanged, and the identity the
 * upstream vouched for. Portable.
 */

/** The caller's own credentials, forwarded to the upstream unchanged. */
export interface Credentials {
  authorization?: string
  cookie?: string
}

export interface UserIdentity {
  username: string
  authorities: string[]
  isAdmin: boolean
}
