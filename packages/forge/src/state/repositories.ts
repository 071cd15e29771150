/** Repositories: creation, lookup, permissions, forks, and branches as the git layer reads them. */
import { ApiError, notFound, SeedError, validationFailed } from '../errors.js'
import { asString, atLeast, LEVEL, repoKey } from './records.js'
import type { AuthorAssociation, LabelRecord, Permission, RepoRecord } from './records.js'
import { AccountsState } from './accounts.js'

export class RepositoriesState extends AccountsState {
  readonly repos = new Map<string, RepoRecord>()

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

  protected requireWrite (repo: RepoRecord, actor: string, needed: Permission): void {
    if (!atLeast(this.permission(repo, actor), needed)) {
      throw new ApiError(403, needed === 'admin' ? 'Must have admin rights to Repository.' : 'Resource not accessible by personal access token')
    }
  }

  protected newLabel (repo: RepoRecord, name: string, color: string, description: string | null): LabelRecord {
    const label: LabelRecord = { id: this.nextId.label++, name, color: color.toLowerCase(), description }
    repo.labels.set(label.id, label)
    return label
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
}
