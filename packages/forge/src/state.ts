/**
 * The forge's state model: users, organisations, repositories, issues, pull requests,
 * comments, labels and forks, with GitHub's rules for who may change what. Pure logic:
 * no I/O, the clock is injected, every refusal is an `ApiError` carrying the status and
 * message GitHub would answer with. The HTTP layer (server.ts) and the git layer (git.ts)
 * sit on top of it.
 */
import { ApiError, notFound, SeedError, validationFailed } from './errors.js'

export type Permission = 'read' | 'triage' | 'write' | 'admin'
export type AuthorAssociation = 'OWNER' | 'MEMBER' | 'COLLABORATOR' | 'CONTRIBUTOR' | 'NONE'

const LEVEL: Record<Permission, number> = { read: 1, triage: 2, write: 3, admin: 4 }

/** At least `needed`? */
export function atLeast (have: Permission, needed: Permission): boolean {
  return LEVEL[have] >= LEVEL[needed]
}

export interface UserRecord {
  id: number
  login: string
  type: 'User' | 'Organization'
  name: string | null
  email: string | null
  createdAt: number
}

export interface OrgRecord extends UserRecord {
  members: Set<string>
  owners: Set<string>
}

export interface LabelRecord {
  id: number
  name: string
  color: string
  description: string | null
}

export interface PullRecord {
  /** Key (`owner/name`, lower case) of the repository the head branch lives in. */
  headRepo: string
  headRef: string
  headSha: string
  baseRef: string
  baseSha: string
  draft: boolean
  maintainerCanModify: boolean
  merged: boolean
}

/** One written version of a record, kept so that lists can lag behind writes. */
export interface Version<T> {
  at: number
  value: T | null
}

export interface IssueRecord {
  id: number
  number: number
  title: string
  body: string | null
  author: string
  state: 'open' | 'closed'
  stateReason: 'completed' | 'reopened' | 'not_planned' | null
  labels: number[]
  assignees: string[]
  comments: number
  createdAt: number
  updatedAt: number
  closedAt: number | null
  closedBy: string | null
  pull: PullRecord | null
  versions: Array<Version<IssueRecord>>
}

export interface CommentRecord {
  id: number
  issueNumber: number
  body: string
  author: string
  createdAt: number
  updatedAt: number
  deleted: boolean
  versions: Array<Version<CommentRecord>>
}

export interface RepoRecord {
  id: number
  key: string
  owner: string
  name: string
  description: string | null
  defaultBranch: string
  createdAt: number
  updatedAt: number
  pushedAt: number
  permissions: Map<string, Permission>
  labels: Map<number, LabelRecord>
  issues: Map<number, IssueRecord>
  comments: Map<number, CommentRecord>
  /** Issue number -> ids of its comments (including deleted ones), in creation order. */
  commentsByIssue: Map<number, number[]>
  nextNumber: number
  /** Key of the repository this one was forked from, if any. */
  parent: string | null
  /** Key of the root of the fork network. */
  source: string
  forks: string[]
  /** Branch name -> commit sha, as the git layer last read it. */
  branches: Map<string, string>
  /** False for a fork whose git objects have not appeared yet. */
  gitReady: boolean
  sizeKb: number
  hasIssues: boolean
  /** Refuse non-fast-forward pushes (a protected branch, GitHub style) for every branch. */
  denyForcePush: boolean
}

export interface StateInit {
  now?: () => number
}

export interface IssueFilter {
  state?: 'open' | 'closed' | 'all'
  labels?: string[]
  assignee?: string
  creator?: string
  since?: number
  sort?: 'created' | 'updated' | 'comments'
  direction?: 'asc' | 'desc'
  /** Only pull requests / only plain issues. */
  kind?: 'all' | 'pull' | 'issue'
}

export interface NewIssue {
  title?: unknown
  body?: unknown
  labels?: unknown
  assignees?: unknown
  assignee?: unknown
}

export interface IssuePatch extends NewIssue {
  state?: unknown
  state_reason?: unknown
}

export interface NewPull {
  title: string
  body: string | null
  headRepo: RepoRecord
  headRef: string
  headSha: string
  baseRef: string
  baseSha: string
  draft: boolean
  maintainerCanModify: boolean
}

const MAX_ASSIGNEES = 10
/** How long old versions are kept for lagging lists (listLagMs beyond this sees the oldest kept). */
const VERSION_RETENTION_MS = 15 * 60_000

export const repoKey = (owner: string, name: string): string => `${owner}/${name}`.toLowerCase()

const sec = (ms: number): number => Math.floor(ms / 1000)

function snapshot<T extends { versions: unknown[] }> (record: T): T {
  return structuredClone({ ...record, versions: [] })
}

function record<T extends { versions: Array<Version<T>> }> (rec: T, at: number, deleted = false): void {
  rec.versions.push({ at, value: deleted ? null : snapshot(rec) })
  // Drop versions superseded before the retention window (keep the one current at its start).
  let drop = 0
  while (drop + 1 < rec.versions.length && (rec.versions[drop + 1]?.at ?? Infinity) <= at - VERSION_RETENTION_MS) drop++
  if (drop > 0) rec.versions.splice(0, drop)
}

/** The version of `rec` that was current at time `at`, or null if it did not exist (or was deleted). */
export function viewAt<T extends { versions: Array<Version<T>> }> (rec: T, at: number | undefined): T | null {
  if (at == null) return rec
  for (let i = rec.versions.length - 1; i >= 0; i--) {
    const v = rec.versions[i]
    if (v != null && v.at <= at) return v.value
  }
  // Older than every kept version: the oldest one kept is the best answer (or it did not exist yet).
  return null
}

function asString (v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

function loginList (v: unknown, field: string): string[] {
  if (v == null) return []
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw validationFailed({ resource: 'Issue', field, code: 'invalid' })
  }
  return v as string[]
}

function labelNames (v: unknown): string[] {
  if (v == null) return []
  if (!Array.isArray(v)) throw validationFailed({ resource: 'Label', field: 'labels', code: 'invalid' })
  return v.map((x: unknown) => {
    if (typeof x === 'string') return x
    if (x != null && typeof x === 'object' && typeof (x as { name?: unknown }).name === 'string') return (x as { name: string }).name
    throw validationFailed({ resource: 'Label', field: 'labels', code: 'invalid' })
  })
}

const COLOR = /^[0-9a-fA-F]{6}$/

export class ForgeState {
  readonly users = new Map<string, UserRecord>()
  readonly orgs = new Map<string, OrgRecord>()
  readonly repos = new Map<string, RepoRecord>()
  private readonly tokens = new Map<string, string>()
  private readonly now: () => number
  private nextId = { user: 1000, repo: 100000, issue: 5000000, comment: 90000000, label: 700000 }

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

  // ---------------------------------------------------------------- repos

  createRepo (r: {
    owner: string
    name: string
    defaultBranch?: string
    description?: string | null
    permissions?: Record<string, Permission>
    labels?: Array<string | { name: string, color?: string, description?: string | null }>
    parent?: RepoRecord
    denyForcePush?: boolean
  }): RepoRecord {
    const owner = this.user(r.owner)
    if (owner == null) throw new SeedError(`unknown owner ${r.owner}`)
    const key = repoKey(owner.login, r.name)
    if (this.repos.has(key)) throw new SeedError(`repository ${key} exists`)
    const now = this.now()
    const rec: RepoRecord = {
      id: this.nextId.repo++,
      key,
      owner: owner.login,
      name: r.name,
      description: r.description ?? null,
      defaultBranch: r.defaultBranch ?? r.parent?.defaultBranch ?? 'main',
      createdAt: now,
      updatedAt: now,
      pushedAt: now,
      permissions: new Map(),
      labels: new Map(),
      issues: new Map(),
      comments: new Map(),
      commentsByIssue: new Map(),
      nextNumber: 1,
      parent: r.parent?.key ?? null,
      source: r.parent?.source ?? key,
      forks: [],
      branches: new Map(),
      gitReady: r.parent == null,
      sizeKb: 0,
      hasIssues: r.parent == null,
      denyForcePush: r.denyForcePush ?? false
    }
    for (const [login, perm] of Object.entries(r.permissions ?? {})) {
      this.userOrThrow(login)
      if (!(perm in LEVEL)) throw new SeedError(`bad permission ${String(perm)} for ${login}`)
      rec.permissions.set(login.toLowerCase(), perm)
    }
    for (const l of r.labels ?? []) {
      const spec = typeof l === 'string' ? { name: l } : l
      this.newLabel(rec, spec.name, spec.color ?? 'ededed', spec.description ?? null)
    }
    this.repos.set(key, rec)
    if (r.parent != null) r.parent.forks.push(key)
    return rec
  }

  findRepo (owner: string, name: string): RepoRecord | undefined {
    return this.repos.get(repoKey(owner, name))
  }

  repo (owner: string, name: string): RepoRecord {
    const r = this.findRepo(owner, name)
    if (r == null) throw notFound()
    return r
  }

  repoByKey (key: string): RepoRecord {
    const r = this.repos.get(key)
    if (r == null) throw notFound()
    return r
  }

  /** The user's permission on the repository. Every repository is public, so anyone can read. */
  permission (repo: RepoRecord, login: string | undefined): Permission {
    if (login == null) return 'read'
    const l = login.toLowerCase()
    if (repo.owner.toLowerCase() === l) return 'admin'
    const org = this.orgs.get(repo.owner.toLowerCase())
    if (org?.owners.has(l) === true) return 'admin'
    return repo.permissions.get(l) ?? 'read'
  }

  association (repo: RepoRecord, login: string): AuthorAssociation {
    const l = login.toLowerCase()
    if (repo.owner.toLowerCase() === l) return 'OWNER'
    const org = this.orgs.get(repo.owner.toLowerCase())
    if (org?.owners.has(l) === true) return 'OWNER'
    if (org?.members.has(l) === true) return 'MEMBER'
    if (repo.permissions.has(l)) return 'COLLABORATOR'
    // CONTRIBUTOR (a merged commit) never happens: the forge does not merge.
    return 'NONE'
  }

  /** Can `login` be assigned to issues here? GitHub: only users with push access. */
  assignable (repo: RepoRecord, login: string): boolean {
    const u = this.user(login)
    return u != null && u.type === 'User' && atLeast(this.permission(repo, u.login), 'write')
  }

  private requireWrite (repo: RepoRecord, actor: string, needed: Permission): void {
    if (!atLeast(this.permission(repo, actor), needed)) {
      throw new ApiError(403, needed === 'admin' ? 'Must have admin rights to Repository.' : 'Resource not accessible by personal access token')
    }
  }

  // ---------------------------------------------------------------- labels

  private newLabel (repo: RepoRecord, name: string, color: string, description: string | null): LabelRecord {
    const label: LabelRecord = { id: this.nextId.label++, name, color: color.toLowerCase(), description }
    repo.labels.set(label.id, label)
    return label
  }

  labelByName (repo: RepoRecord, name: string): LabelRecord | undefined {
    const n = name.toLowerCase()
    for (const l of repo.labels.values()) if (l.name.toLowerCase() === n) return l
    return undefined
  }

  listLabels (repo: RepoRecord): LabelRecord[] {
    return [...repo.labels.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  createLabel (repo: RepoRecord, actor: string, input: { name?: unknown, color?: unknown, description?: unknown }): LabelRecord {
    this.requireWrite(repo, actor, 'write')
    const name = asString(input.name)
    if (name == null || name.trim() === '') throw validationFailed({ resource: 'Label', field: 'name', code: 'missing_field' })
    const color = input.color == null ? 'ededed' : asString(input.color)?.replace(/^#/, '')
    if (color == null || !COLOR.test(color)) throw validationFailed({ resource: 'Label', field: 'color', code: 'invalid' })
    if (this.labelByName(repo, name) != null) throw validationFailed({ resource: 'Label', field: 'name', code: 'already_exists' })
    return this.newLabel(repo, name, color, asString(input.description) ?? null)
  }

  updateLabel (repo: RepoRecord, actor: string, name: string, input: { new_name?: unknown, color?: unknown, description?: unknown }): LabelRecord {
    this.requireWrite(repo, actor, 'write')
    const label = this.labelByName(repo, name)
    if (label == null) throw notFound()
    const newName = asString(input.new_name)
    if (newName != null && newName.toLowerCase() !== label.name.toLowerCase() && this.labelByName(repo, newName) != null) {
      throw validationFailed({ resource: 'Label', field: 'name', code: 'already_exists' })
    }
    const color = input.color == null ? undefined : asString(input.color)?.replace(/^#/, '')
    if (color != null && !COLOR.test(color)) throw validationFailed({ resource: 'Label', field: 'color', code: 'invalid' })
    if (newName != null) label.name = newName
    if (color != null) label.color = color.toLowerCase()
    if (input.description !== undefined) label.description = asString(input.description) ?? null
    return label
  }

  deleteLabel (repo: RepoRecord, actor: string, name: string): void {
    this.requireWrite(repo, actor, 'write')
    const label = this.labelByName(repo, name)
    if (label == null) throw notFound()
    repo.labels.delete(label.id)
    for (const issue of repo.issues.values()) {
      if (issue.labels.includes(label.id)) {
        issue.labels = issue.labels.filter((id) => id !== label.id)
        record(issue, this.now())
      }
    }
  }

  /** Label ids for names, creating the missing labels as GitHub does when labelling an issue. */
  private ensureLabels (repo: RepoRecord, names: string[]): number[] {
    const ids: number[] = []
    for (const n of names) {
      if (n.trim() === '') throw validationFailed({ resource: 'Label', field: 'name', code: 'invalid' })
      const label = this.labelByName(repo, n) ?? this.newLabel(repo, n, 'ededed', null)
      if (!ids.includes(label.id)) ids.push(label.id)
    }
    return ids
  }

  issueLabels (repo: RepoRecord, issue: IssueRecord): LabelRecord[] {
    return issue.labels.map((id) => repo.labels.get(id)).filter((l): l is LabelRecord => l != null)
  }

  // ---------------------------------------------------------------- issues

  issue (repo: RepoRecord, number: number): IssueRecord {
    const i = repo.issues.get(number)
    if (i == null) throw notFound()
    return i
  }

  private touch (repo: RepoRecord, issue: IssueRecord, now: number): void {
    issue.updatedAt = now
    repo.updatedAt = now
    record(issue, now)
  }

  /** `privileged` skips the permission rules (for seeding). */
  createIssue (repo: RepoRecord, actor: string, input: NewIssue, privileged = false): IssueRecord {
    if (!repo.hasIssues) throw new ApiError(410, 'Issues are disabled for this repo')
    const title = asString(input.title) ?? (typeof input.title === 'number' ? String(input.title) : undefined)
    if (title == null || title === '') throw validationFailed({ resource: 'Issue', field: 'title', code: 'missing_field' })
    const body = input.body == null ? null : asString(input.body)
    if (body === undefined) throw validationFailed({ resource: 'Issue', field: 'body', code: 'invalid' })
    const canTriage = privileged || atLeast(this.permission(repo, actor), 'triage')
    const names = labelNames(input.labels)
    const wanted = [...loginList(input.assignees, 'assignees'), ...(typeof input.assignee === 'string' ? [input.assignee] : [])]
    const now = this.now()
    const issue: IssueRecord = {
      id: this.nextId.issue++,
      number: repo.nextNumber++,
      title,
      body,
      author: this.userOrThrow(actor).login,
      state: 'open',
      stateReason: null,
      labels: canTriage ? this.ensureLabels(repo, names) : [],
      assignees: canTriage ? this.filterAssignees(repo, [], wanted) : [],
      comments: 0,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
      closedBy: null,
      pull: null,
      versions: []
    }
    repo.issues.set(issue.number, issue)
    repo.updatedAt = now
    record(issue, now)
    return issue
  }

  private filterAssignees (repo: RepoRecord, existing: string[], wanted: string[]): string[] {
    const out = [...existing]
    for (const w of wanted) {
      if (out.length >= MAX_ASSIGNEES) break
      if (!this.assignable(repo, w)) continue
      const login = this.user(w)?.login ?? w
      if (!out.some((o) => o.toLowerCase() === login.toLowerCase())) out.push(login)
    }
    return out
  }

  updateIssue (repo: RepoRecord, actor: string, number: number, patch: IssuePatch, privileged = false): IssueRecord {
    const issue = this.issue(repo, number)
    const perm = privileged ? 'admin' : this.permission(repo, actor)
    const isAuthor = issue.author.toLowerCase() === actor.toLowerCase()
    const canTriage = atLeast(perm, 'triage')
    if (!canTriage && !isAuthor) throw new ApiError(403, 'Resource not accessible by personal access token')
    const next = { ...issue }
    if (patch.title !== undefined) {
      const t = asString(patch.title)
      if (t == null || t === '') throw validationFailed({ resource: 'Issue', field: 'title', code: 'missing_field' })
      next.title = t
    }
    if (patch.body !== undefined) {
      const b = patch.body === null ? null : asString(patch.body)
      if (b === undefined) throw validationFailed({ resource: 'Issue', field: 'body', code: 'invalid' })
      next.body = b
    }
    if (patch.state !== undefined) {
      if (patch.state !== 'open' && patch.state !== 'closed') throw validationFailed({ resource: 'Issue', field: 'state', code: 'invalid' })
      const reason = patch.state_reason
      if (reason != null && reason !== 'completed' && reason !== 'not_planned' && reason !== 'reopened') {
        throw validationFailed({ resource: 'Issue', field: 'state_reason', code: 'invalid' })
      }
      if (patch.state === 'closed' && issue.state === 'open') {
        next.state = 'closed'
        next.closedAt = this.now()
        next.closedBy = this.userOrThrow(actor).login
        next.stateReason = reason === 'not_planned' ? 'not_planned' : 'completed'
      } else if (patch.state === 'open' && issue.state === 'closed') {
        if (issue.pull != null) this.checkNoDuplicatePull(repo, issue.pull, issue.number)
        next.state = 'open'
        next.closedAt = null
        next.closedBy = null
        next.stateReason = 'reopened'
      }
    }
    // Labels and assignees in a PATCH replace the whole list; without triage they are ignored.
    if (canTriage && patch.labels !== undefined) next.labels = patch.labels === null ? [] : this.ensureLabels(repo, labelNames(patch.labels))
    if (canTriage && (patch.assignees !== undefined || patch.assignee !== undefined)) {
      const wanted = patch.assignees !== undefined
        ? loginList(patch.assignees, 'assignees')
        : (typeof patch.assignee === 'string' ? [patch.assignee] : [])
      next.assignees = this.filterAssignees(repo, [], wanted)
    }
    Object.assign(issue, next)
    this.touch(repo, issue, this.now())
    return issue
  }

  addAssignees (repo: RepoRecord, actor: string, number: number, logins: unknown): IssueRecord {
    const issue = this.issue(repo, number)
    const wanted = loginList(logins, 'assignees')
    if (atLeast(this.permission(repo, actor), 'triage')) {
      const next = this.filterAssignees(repo, issue.assignees, wanted)
      if (next.length !== issue.assignees.length) {
        issue.assignees = next
        this.touch(repo, issue, this.now())
      }
    }
    return issue
  }

  removeAssignees (repo: RepoRecord, actor: string, number: number, logins: unknown): IssueRecord {
    const issue = this.issue(repo, number)
    const drop = new Set(loginList(logins, 'assignees').map((l) => l.toLowerCase()))
    if (atLeast(this.permission(repo, actor), 'triage')) {
      const next = issue.assignees.filter((a) => !drop.has(a.toLowerCase()))
      if (next.length !== issue.assignees.length) {
        issue.assignees = next
        this.touch(repo, issue, this.now())
      }
    }
    return issue
  }

  addLabels (repo: RepoRecord, actor: string, number: number, names: unknown): LabelRecord[] {
    const issue = this.issue(repo, number)
    this.requireWrite(repo, actor, 'triage')
    const ids = this.ensureLabels(repo, labelNames(names))
    const next = [...issue.labels, ...ids.filter((id) => !issue.labels.includes(id))]
    if (next.length !== issue.labels.length) {
      issue.labels = next
      this.touch(repo, issue, this.now())
    }
    return this.issueLabels(repo, issue)
  }

  setLabels (repo: RepoRecord, actor: string, number: number, names: unknown): LabelRecord[] {
    const issue = this.issue(repo, number)
    this.requireWrite(repo, actor, 'triage')
    issue.labels = this.ensureLabels(repo, labelNames(names))
    this.touch(repo, issue, this.now())
    return this.issueLabels(repo, issue)
  }

  removeLabel (repo: RepoRecord, actor: string, number: number, name: string): LabelRecord[] {
    const issue = this.issue(repo, number)
    this.requireWrite(repo, actor, 'triage')
    const label = this.labelByName(repo, name)
    if (label == null || !issue.labels.includes(label.id)) throw new ApiError(404, 'Label does not exist')
    issue.labels = issue.labels.filter((id) => id !== label.id)
    this.touch(repo, issue, this.now())
    return this.issueLabels(repo, issue)
  }

  /**
   * Issues (and pull requests) matching the filter, sorted. `at` views the repository as it
   * was at that time (for list lag); undefined means now.
   */
  listIssues (repo: RepoRecord, f: IssueFilter = {}, at?: number): IssueRecord[] {
    const state = f.state ?? 'open'
    const wantLabels = (f.labels ?? []).map((l) => l.toLowerCase()).filter((l) => l !== '')
    const out: IssueRecord[] = []
    for (const current of repo.issues.values()) {
      const i = viewAt(current, at)
      if (i == null) continue
      if (f.kind === 'pull' && i.pull == null) continue
      if (f.kind === 'issue' && i.pull != null) continue
      if (state !== 'all' && i.state !== state) continue
      if (wantLabels.length > 0) {
        const names = new Set(this.issueLabels(repo, i).map((l) => l.name.toLowerCase()))
        if (!wantLabels.every((l) => names.has(l))) continue
      }
      if (f.assignee != null) {
        if (f.assignee === 'none') { if (i.assignees.length > 0) continue } else if (f.assignee === '*') { if (i.assignees.length === 0) continue } else if (!i.assignees.some((a) => a.toLowerCase() === f.assignee?.toLowerCase())) continue
      }
      if (f.creator != null && i.author.toLowerCase() !== f.creator.toLowerCase()) continue
      if (f.since != null && sec(i.updatedAt) < sec(f.since)) continue
      out.push(i)
    }
    const sort = f.sort ?? 'created'
    const dir = f.direction === 'asc' ? 1 : -1
    const key = (i: IssueRecord): number => sort === 'updated' ? i.updatedAt : sort === 'comments' ? i.comments : i.createdAt
    out.sort((a, b) => dir * ((key(a) - key(b)) || (a.number - b.number)))
    return out
  }

  // ---------------------------------------------------------------- comments

  comment (repo: RepoRecord, id: number): CommentRecord {
    const c = repo.comments.get(id)
    if (c == null || c.deleted) throw notFound()
    return c
  }

  createComment (repo: RepoRecord, actor: string, number: number, body: unknown): CommentRecord {
    const issue = this.issue(repo, number)
    const text = asString(body)
    if (text == null || text === '') throw validationFailed({ resource: 'IssueComment', field: 'body', code: 'missing_field' })
    const now = this.now()
    const c: CommentRecord = {
      id: this.nextId.comment++,
      issueNumber: issue.number,
      body: text,
      author: this.userOrThrow(actor).login,
      createdAt: now,
      updatedAt: now,
      deleted: false,
      versions: []
    }
    repo.comments.set(c.id, c)
    const ids = repo.commentsByIssue.get(issue.number) ?? []
    ids.push(c.id)
    repo.commentsByIssue.set(issue.number, ids)
    record(c, now)
    issue.comments++
    this.touch(repo, issue, now)
    return c
  }

  private requireCommentRights (repo: RepoRecord, actor: string, c: CommentRecord): void {
    if (c.author.toLowerCase() === actor.toLowerCase()) return
    this.requireWrite(repo, actor, 'write')
  }

  updateComment (repo: RepoRecord, actor: string, id: number, body: unknown): CommentRecord {
    const c = this.comment(repo, id)
    this.requireCommentRights(repo, actor, c)
    const text = asString(body)
    if (text == null || text === '') throw validationFailed({ resource: 'IssueComment', field: 'body', code: 'missing_field' })
    const now = this.now()
    c.body = text
    c.updatedAt = now
    record(c, now)
    return c
  }

  deleteComment (repo: RepoRecord, actor: string, id: number): CommentRecord {
    const c = this.comment(repo, id)
    this.requireCommentRights(repo, actor, c)
    const now = this.now()
    c.deleted = true
    record(c, now, true)
    const issue = repo.issues.get(c.issueNumber)
    if (issue != null) {
      issue.comments = Math.max(0, issue.comments - 1)
      this.touch(repo, issue, now)
    }
    return c
  }

  /** Comments of one issue (or of the whole repository when `number` is undefined), oldest first. */
  listComments (repo: RepoRecord, number: number | undefined, f: { since?: number, direction?: 'asc' | 'desc', sort?: 'created' | 'updated' } = {}, at?: number): CommentRecord[] {
    if (number != null) this.issue(repo, number)
    const out: CommentRecord[] = []
    const source = number == null
      ? repo.comments.values()
      : (repo.commentsByIssue.get(number) ?? []).map((id) => repo.comments.get(id)).filter((c): c is CommentRecord => c != null)
    for (const current of source) {
      const c = viewAt(current, at)
      if (c == null || c.deleted) continue
      if (f.since != null && sec(c.updatedAt) < sec(f.since)) continue
      out.push(c)
    }
    const dir = f.direction === 'desc' ? -1 : 1
    if (f.sort === 'updated') out.sort((a, b) => dir * ((a.updatedAt - b.updatedAt) || (a.id - b.id)))
    else out.sort((a, b) => dir * (a.id - b.id))
    return out
  }

  // ---------------------------------------------------------------- forks

  /** The repositories of the fork network of `repo` owned by `owner`. */
  networkRepoOf (repo: RepoRecord, owner: string): RepoRecord | undefined {
    const o = owner.toLowerCase()
    for (const r of this.repos.values()) {
      if (r.source === repo.source && r.owner.toLowerCase() === o) return r
    }
    return undefined
  }

  /** Fork `repo` for `actor` (or into `organization`). Returns the existing fork when there is one. */
  fork (repo: RepoRecord, actor: string, input: { organization?: unknown, name?: unknown } = {}): { fork: RepoRecord, created: boolean } {
    const org = asString(input.organization)
    let owner = this.userOrThrow(actor).login
    if (org != null) {
      const o = this.orgs.get(org.toLowerCase())
      if (o == null) throw validationFailed({ resource: 'Fork', field: 'organization', code: 'invalid' })
      if (!o.members.has(actor.toLowerCase())) throw new ApiError(403, 'Resource not accessible by personal access token')
      owner = o.login
    }
    const existing = this.networkRepoOf(repo, owner)
    if (existing != null) return { fork: existing, created: false }
    let name = asString(input.name) ?? repo.name
    for (let n = 1; this.findRepo(owner, name) != null; n++) name = `${asString(input.name) ?? repo.name}-${n}`
    const fork = this.createRepo({ owner, name, parent: repo })
    fork.branches = new Map(repo.branches)
    return { fork, created: true }
  }

  // ---------------------------------------------------------------- branches (fed by the git layer)

  /** Replace the branch map; returns the branches whose head changed (sha null = deleted). */
  setBranches (repo: RepoRecord, heads: Map<string, string>): Array<{ ref: string, before: string | null, after: string | null }> {
    const changes: Array<{ ref: string, before: string | null, after: string | null }> = []
    for (const [ref, sha] of heads) {
      const before = repo.branches.get(ref) ?? null
      if (before !== sha) changes.push({ ref, before, after: sha })
    }
    for (const [ref, sha] of repo.branches) if (!heads.has(ref)) changes.push({ ref, before: sha, after: null })
    repo.branches = new Map(heads)
    if (changes.length > 0) {
      const now = this.now()
      repo.pushedAt = now
      repo.updatedAt = now
      if (repo.sizeKb === 0 && repo.gitReady) repo.sizeKb = 1
    }
    return changes
  }

  // ---------------------------------------------------------------- pull requests

  headLabel (p: PullRecord): string {
    return `${this.repoByKey(p.headRepo).owner}:${p.headRef}`
  }

  private checkNoDuplicatePull (repo: RepoRecord, p: Pick<PullRecord, 'headRepo' | 'headRef' | 'baseRef'>, except?: number): void {
    for (const i of repo.issues.values()) {
      if (i.number === except || i.state !== 'open' || i.pull == null) continue
      if (i.pull.headRepo === p.headRepo && i.pull.headRef === p.headRef && i.pull.baseRef === p.baseRef) {
        throw validationFailed({ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${this.repoByKey(p.headRepo).owner}:${p.headRef}.` })
      }
    }
  }

  /** Validate a new pull request without creating it (the git checks happen in between). */
  checkPull (repo: RepoRecord, input: Pick<NewPull, 'headRepo' | 'headRef' | 'baseRef'>): void {
    this.checkNoDuplicatePull(repo, { headRepo: input.headRepo.key, headRef: input.headRef, baseRef: input.baseRef })
  }

  createPull (repo: RepoRecord, actor: string, input: NewPull): IssueRecord {
    if (input.title === '') throw validationFailed({ resource: 'PullRequest', field: 'title', code: 'missing_field' })
    this.checkPull(repo, input)
    const now = this.now()
    const issue: IssueRecord = {
      id: this.nextId.issue++,
      number: repo.nextNumber++,
      title: input.title,
      body: input.body,
      author: this.userOrThrow(actor).login,
      state: 'open',
      stateReason: null,
      labels: [],
      assignees: [],
      comments: 0,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
      closedBy: null,
      pull: {
        headRepo: input.headRepo.key,
        headRef: input.headRef,
        headSha: input.headSha,
        baseRef: input.baseRef,
        baseSha: input.baseSha,
        draft: input.draft,
        maintainerCanModify: input.maintainerCanModify,
        merged: false
      },
      versions: []
    }
    repo.issues.set(issue.number, issue)
    repo.updatedAt = now
    record(issue, now)
    return issue
  }

  pull (repo: RepoRecord, number: number): IssueRecord & { pull: PullRecord } {
    const i = this.issue(repo, number)
    if (i.pull == null) throw notFound()
    return i as IssueRecord & { pull: PullRecord }
  }

  updatePull (repo: RepoRecord, actor: string, number: number, patch: { title?: unknown, body?: unknown, state?: unknown, base?: unknown }): IssueRecord {
    const pr = this.pull(repo, number)
    if (patch.base !== undefined) {
      const base = asString(patch.base)
      if (base == null || !repo.branches.has(base)) throw validationFailed({ resource: 'PullRequest', field: 'base', code: 'invalid' })
      if (!atLeast(this.permission(repo, actor), 'write') && pr.author.toLowerCase() !== actor.toLowerCase()) {
        throw new ApiError(403, 'Resource not accessible by personal access token')
      }
      this.checkNoDuplicatePull(repo, { ...pr.pull, baseRef: base }, pr.number)
      pr.pull.baseRef = base
      pr.pull.baseSha = repo.branches.get(base) ?? pr.pull.baseSha
    }
    return this.updateIssue(repo, actor, number, { title: patch.title, body: patch.body, state: patch.state })
  }

  /** Open pull requests whose head is `ref` of `headRepo` (to follow pushes). */
  pullsWithHead (headRepo: RepoRecord, ref: string): Array<{ repo: RepoRecord, issue: IssueRecord & { pull: PullRecord } }> {
    const out: Array<{ repo: RepoRecord, issue: IssueRecord & { pull: PullRecord } }> = []
    for (const repo of this.repos.values()) {
      if (repo.source !== headRepo.source) continue
      for (const i of repo.issues.values()) {
        if (i.pull != null && i.state === 'open' && i.pull.headRepo === headRepo.key && i.pull.headRef === ref) {
          out.push({ repo, issue: i as IssueRecord & { pull: PullRecord } })
        }
      }
    }
    return out
  }

  /** Record a new head sha for a pull request (after a push to its head branch). */
  setPullHead (repo: RepoRecord, number: number, sha: string): IssueRecord {
    const pr = this.pull(repo, number)
    pr.pull.headSha = sha
    this.touch(repo, pr, this.now())
    return pr
  }

  listPulls (repo: RepoRecord, f: { state?: 'open' | 'closed' | 'all', head?: string, base?: string, sort?: 'created' | 'updated', direction?: 'asc' | 'desc' } = {}, at?: number): IssueRecord[] {
    const list = this.listIssues(repo, {
      kind: 'pull', state: f.state ?? 'open', sort: f.sort ?? 'created', direction: f.direction ?? 'desc'
    }, at)
    return list.filter((i) => {
      const p = i.pull
      if (p == null) return false
      if (f.base != null && p.baseRef !== f.base) return false
      if (f.head != null) {
        const [owner, ref] = f.head.includes(':') ? f.head.split(':', 2) as [string, string] : [f.head, undefined]
        const headRepo = this.repos.get(p.headRepo)
        if (headRepo?.owner.toLowerCase() !== owner.toLowerCase()) return false
        if (ref != null && p.headRef !== ref) return false
      }
      return true
    })
  }
}
