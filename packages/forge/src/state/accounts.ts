/** Users, organisations and tokens: the base of the forge's state model. Pure logic, clock injected. */
import { SeedError } from '../errors.js'
import type { OrgRecord, StateInit, UserRecord } from './records.js'

export class AccountsState {
  readonly users = new Map<string, UserRecord>()
  readonly orgs = new Map<string, OrgRecord>()
  private readonly tokens = new Map<string, string>()
  protected readonly now: () => number
  protected nextId = { user: 1000, repo: 100000, issue: 5000000, comment: 90000000, label: 700000 }

  constructor (init: StateInit = {}) {
    this.now = init.now ?? Date.now
  }

  clock (): number {
    return this.now()
  }

  // ---------------------------------------------------------------- users

  addUser (u: { login: string, token?: string, name?: string | null, email?: string | null }): UserRecord {
    const key = u.login.toLowerCase()
    if (this.users.has(key)) throw new SeedError(`user ${u.login} exists`)
    const rec: UserRecord = { id: this.nextId.user++, login: u.login, type: 'User', name: u.name ?? null, email: u.email ?? null, createdAt: this.now() }
    this.users.set(key, rec)
    if (u.token != null) this.addToken(u.login, u.token)
    return rec
  }

  addToken (login: string, token: string): void {
    if (this.tokens.has(token)) throw new SeedError('duplicate token')
    this.userOrThrow(login)
    this.tokens.set(token, login.toLowerCase())
  }

  addOrg (o: { login: string, members?: string[], owners?: string[] }): OrgRecord {
    const key = o.login.toLowerCase()
    if (this.users.has(key)) throw new SeedError(`account ${o.login} exists`)
    const rec: OrgRecord = {
      id: this.nextId.user++, login: o.login, type: 'Organization', name: null, email: null, createdAt: this.now(),
      members: new Set((o.members ?? []).map((m) => m.toLowerCase())),
      owners: new Set((o.owners ?? []).map((m) => m.toLowerCase()))
    }
    for (const m of [...rec.members, ...rec.owners]) this.userOrThrow(m)
    for (const m of rec.owners) rec.members.add(m)
    this.users.set(key, rec)
    this.orgs.set(key, rec)
    return rec
  }

  userByToken (token: string): UserRecord | undefined {
    const login = this.tokens.get(token)
    return login == null ? undefined : this.users.get(login)
  }

  user (login: string): UserRecord | undefined {
    return this.users.get(login.toLowerCase())
  }

  userOrThrow (login: string): UserRecord {
    const u = this.user(login)
    if (u == null) throw new SeedError(`unknown user ${login}`)
    return u
  }
}
