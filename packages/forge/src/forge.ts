/**
 * `createForge`: the HTTP server — GitHub's REST API (the part Bzzz uses) on top of the
 * state model, git smart HTTP through `git http-backend`, rate limits, faults and webhooks.
 */
import { createHash, randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ApiError, notFound, validationFailed } from './errors.js'
import { FaultInjector, seededRandom } from './faults.js'
import type { FaultConfig } from './faults.js'
import {
  cloneBare, deleteRef, fetchInto, initRepo, isAncestor, KeyedQueue, objectExists, readCommit, readHeads,
  serveHttpBackend, updateRef, ZERO_SHA
} from './git.js'
import { RateLimiter } from './ratelimit.js'
import type { PrimaryState, RateLimitConfig } from './ratelimit.js'
import { Renderer } from './render.js'
import type { Json } from './render.js'
import { Router } from './router.js'
import { atLeast, ForgeState } from './state.js'
import type { IssueFilter, IssueRecord, Permission, RepoRecord, UserRecord } from './state.js'
import { Webhooks } from './webhooks.js'
import type { Delivery, WebhookInit } from './webhooks.js'

export interface SeedUser {
  login: string
  /** API token; also the git Basic-auth password. */
  token?: string
  name?: string
  email?: string
}

export interface SeedOrg {
  login: string
  members?: string[]
  /** Organisation owners: admin on every repository of the organisation. */
  owners?: string[]
}

export interface SeedIssue {
  title: string
  body?: string
  author: string
  labels?: string[]
  assignees?: string[]
  state?: 'open' | 'closed'
}

export interface SeedRepo {
  owner: string
  name: string
  defaultBranch?: string
  description?: string
  /** Files of an initial commit on the default branch (none: an empty repository). */
  files?: Record<string, string>
  /** Explicit permissions; the owner (and the organisation's owners) are always admin. */
  permissions?: Record<string, Permission>
  labels?: Array<string | { name: string, color?: string, description?: string }>
  issues?: SeedIssue[]
  /** Refuse non-fast-forward pushes (force pushes) to every branch, as a protected branch does. */
  denyForcePush?: boolean
}

export interface ForgeSeed {
  users?: SeedUser[]
  orgs?: SeedOrg[]
  repos?: SeedRepo[]
}

export interface ForgeInit {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number
  host?: string
  /** Where the bare repositories live; default a temporary directory, removed on close. */
  dataDir?: string
  seed?: ForgeSeed
  /** Seed of the generator that draws faults, so a run can be replayed. */
  random?: { seed: number }
  /** A fork's git objects (and branches) appear this many ms after it is created (default 0). */
  forkDelayMs?: number
  rateLimit?: Partial<RateLimitConfig>
  faults?: FaultConfig
  /** The clock (ms since the epoch); default `Date.now`. */
  now?: () => number
}

/** A push (or ref change through the API) as the forge saw it; `after: null` is a deletion. */
export interface PushEvent {
  owner: string
  repo: string
  ref: string
  before: string | null
  after: string | null
  pusher: string | null
}

/** One REST request, once answered. */
export interface RequestEvent {
  method: string
  path: string
  status: number
  login: string | null
  ms: number
}

/** Events of `forge.events` (a typed node EventEmitter), for simulations to observe. */
export interface ForgeEvents {
  request: [RequestEvent]
  push: [PushEvent]
  'fork-ready': [{ owner: string, repo: string }]
}

export interface Forge {
  /** Typed events: `request`, `push`, `fork-ready`. */
  readonly events: EventEmitter<ForgeEvents>
  /** `http://host:port`: the REST API root (Octokit's `baseUrl`) and the git host. */
  readonly url: string
  readonly port: number
  /** Directory holding the bare repositories. */
  readonly dataDir: string
  /** The state model, for assertions in tests. */
  readonly state: ForgeState
  /** Every webhook delivery so far. */
  readonly deliveries: readonly Delivery[]
  /** Clone URL of a repository (Basic auth: any user name, the token as password). */
  gitUrl: (owner: string, repo: string, token?: string) => string
  /** Path of a repository's bare git directory. */
  repoPath: (owner: string, repo: string) => string
  setFaults: (faults: FaultConfig) => void
  setRateLimit: (config: Partial<RateLimitConfig>) => void
  /** Forget all rate-limit usage. */
  resetRateLimits: () => void
  /** What the primary limit of `login` (undefined: anonymous) stands at now. */
  rateLimitUsage: (login?: string) => { limit: number, remaining: number, used: number, reset: number }
  /** Answer every REST request with a rate limit for `durationMs`. */
  burstRateLimit: (kind: 'primary' | 'secondary', durationMs: number) => void
  addUser: (user: SeedUser) => UserRecord
  /** `signal` is checked before the repository is created; once begun, creation completes. */
  addRepo: (repo: SeedRepo, options?: { signal?: AbortSignal }) => Promise<RepoRecord>
  createIssue: (owner: string, repo: string, issue: SeedIssue) => IssueRecord
  addWebhook: (owner: string, repo: string, hook: WebhookInit) => number
  removeWebhook: (id: number) => void
  /** Resolves when forks in progress, git work and webhook deliveries have finished. */
  settled: () => Promise<void>
  close: () => Promise<void>
}

interface Reply {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

interface Ctx {
  req: IncomingMessage
  url: URL
  params: Record<string, string>
  query: URLSearchParams
  body: Record<string, unknown>
  rawBody: unknown
  actor: UserRecord | undefined
  /** The authenticated login; 401 without a token. */
  login: () => string
}

type Handler = (ctx: Ctx) => Reply | Promise<Reply>

const DOCS = 'https://docs.github.com/rest'
const CONDITIONAL = ['if-none-match', 'if-match', 'if-modified-since', 'if-unmodified-since']
const READ_METHODS = new Set(['GET', 'HEAD'])

function int (v: string | null | undefined, fallback: number): number {
  if (v == null || v === '') return fallback
  const n = Number(v)
  return Number.isInteger(n) ? n : fallback
}

function parseTime (v: string | null, field: string): number | undefined {
  if (v == null || v === '') return undefined
  const t = Date.parse(v)
  if (Number.isNaN(t)) throw validationFailed({ resource: 'Search', field, code: 'invalid' })
  return t
}

function oneOf<T extends string> (v: string | null, allowed: readonly T[], fallback: T): T {
  if (v == null || v === '') return fallback
  return (allowed as readonly string[]).includes(v) ? v as T : fallback
}

/** GitHub refuses REST bodies beyond about 25 MB. */
const MAX_BODY = 25 * 1024 * 1024

async function readBody (req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of req) {
    size += (c as Buffer).length
    if (size > MAX_BODY) return undefined
    chunks.push(c as Buffer)
  }
  return Buffer.concat(chunks)
}

export async function createForge (init: ForgeInit = {}): Promise<Forge> {
  const now = init.now ?? Date.now
  const state = new ForgeState({ now })
  const random = init.random != null ? seededRandom(init.random.seed) : Math.random
  const faults = new FaultInjector(init.faults ?? {}, random)
  const limiter = new RateLimiter(init.rateLimit ?? {}, now)
  const webhooks = new Webhooks(() => faults.webhook())
  const gitQueue = new KeyedQueue()
  const events = new EventEmitter<ForgeEvents>()
  const background = new Set<Promise<unknown>>()
  const ownDataDir = init.dataDir == null
  const dataDir = init.dataDir ?? await mkdtemp(join(tmpdir(), 'bzzz-forge-'))
  const forkDelayMs = init.forkDelayMs ?? 0
  const router = new Router<Handler>()
  let url = ''
  let render: Renderer = new Renderer(state, 'http://127.0.0.1')
  const path = (r: RepoRecord): string => join(dataDir, `${r.key}.git`)

  const track = <T>(p: Promise<T>): Promise<T> => {
    background.add(p)
    void p.catch(() => {}).finally(() => background.delete(p))
    return p
  }

  // ------------------------------------------------------------------ helpers

  const repoOf = (ctx: Ctx): RepoRecord => state.repo(ctx.params.owner ?? '', ctx.params.repo ?? '')
  const numberOf = (ctx: Ctx, name = 'number'): number => {
    const n = Number(ctx.params[name])
    if (!Number.isInteger(n) || n <= 0) throw notFound()
    return n
  }
  const listAt = (): number | undefined => {
    const lag = faults.settings.listLagMs ?? 0
    return lag > 0 ? now() - lag : undefined
  }
  const sender = (ctx: Ctx): Json | undefined => ctx.actor == null ? undefined : render.user(ctx.actor)
  const emit = (repo: RepoRecord, event: string, build: Json | (() => Json), ctx?: Ctx): void => {
    if (!webhooks.wants(repo.key, event)) return
    const payload = typeof build === 'function' ? build() : build
    webhooks.emit(repo.key, event, () => ({ ...payload, repository: render.repo(repo, undefined, false), ...(ctx != null ? { sender: sender(ctx) } : {}) }))
  }

  /** The `changes` of an `edited` webhook: previous title and body where they changed. */
  const editChanges = (old: Pick<IssueRecord, 'title' | 'body'>, now: Pick<IssueRecord, 'title' | 'body'>): Json => ({
    ...(old.title !== now.title ? { title: { from: old.title } } : {}),
    ...(old.body !== now.body ? { body: { from: old.body ?? '' } } : {})
  })

  function paginate<T> (ctx: Ctx, items: T[]): { page: T[], headers: Record<string, string> } {
    const perPage = Math.min(100, Math.max(1, int(ctx.query.get('per_page'), 30)))
    const page = Math.max(1, int(ctx.query.get('page'), 1))
    const last = Math.max(1, Math.ceil(items.length / perPage))
    const link = (p: number): string => {
      const u = new URL(`${url}${ctx.url.pathname}${ctx.url.search}`)
      u.searchParams.set('per_page', String(perPage))
      u.searchParams.set('page', String(p))
      return u.toString()
    }
    const parts: string[] = []
    if (page > 1) parts.push(`<${link(Math.min(page - 1, last))}>; rel="prev"`)
    if (page < last) parts.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`)
    if (page > 1) parts.push(`<${link(1)}>; rel="first"`)
    return { page: items.slice((page - 1) * perPage, page * perPage), headers: parts.length > 0 ? { link: parts.join(', ') } : {} }
  }

  const labelsParam = (ctx: Ctx): unknown => {
    // Accepts {labels: [...]}, a bare array, or {labels: [{name}]}.
    if (Array.isArray(ctx.rawBody)) return ctx.rawBody
    return ctx.body.labels
  }

  // ------------------------------------------------------------------ git-backed operations

  /** Re-read a repository's branches after its refs changed, and follow pull request heads. */
  async function refreshRefs (repo: RepoRecord, pusher?: UserRecord): Promise<void> {
    const heads = await readHeads(path(repo))
    const changes = state.setBranches(repo, heads)
    const actor = pusher ?? state.user(repo.owner)
    const sender = actor != null ? render.user(actor) : undefined
    const repository = (): Json => render.repo(repo, undefined, false)
    for (const change of changes) {
      if (change.after == null) {
        webhooks.emit(repo.key, 'delete', () => ({ ref: change.ref, ref_type: 'branch', pusher_type: 'user', repository: repository(), sender }))
        events.emit('push', { owner: repo.owner, repo: repo.name, ref: `refs/heads/${change.ref}`, before: change.before, after: null, pusher: actor?.login ?? null })
        continue
      }
      if (change.before == null) {
        webhooks.emit(repo.key, 'create', () => ({
          ref: change.ref, ref_type: 'branch', master_branch: repo.defaultBranch, description: repo.description, pusher_type: 'user', repository: repository(), sender
        }))
      }
      const after = change.after
      events.emit('push', { owner: repo.owner, repo: repo.name, ref: `refs/heads/${change.ref}`, before: change.before, after, pusher: actor?.login ?? null })
      const head = webhooks.wants(repo.key, 'push') ? await readCommit(path(repo), after) : undefined
      const headCommit = head == null
        ? null
        : {
            id: head.sha, tree_id: head.tree, distinct: true, message: head.message, timestamp: head.committer.date,
            url: `${url}/${repo.owner}/${repo.name}/commit/${head.sha}`,
            author: { name: head.author.name, email: head.author.email }, committer: { name: head.committer.name, email: head.committer.email },
            added: [], removed: [], modified: []
          }
      webhooks.emit(repo.key, 'push', () => ({
        ref: `refs/heads/${change.ref}`, before: change.before ?? ZERO_SHA, after,
        created: change.before == null, deleted: false, forced: false, base_ref: null,
        compare: `${url}/${repo.owner}/${repo.name}/compare/${(change.before ?? ZERO_SHA).slice(0, 12)}...${after.slice(0, 12)}`,
        commits: headCommit == null ? [] : [headCommit], head_commit: headCommit,
        repository: repository(), pusher: { name: actor?.login ?? repo.owner, email: actor?.email ?? null }, sender
      }))
      for (const { repo: base, issue } of state.pullsWithHead(repo, change.ref)) {
        const before = issue.pull.headSha
        // Not through the base repository's queue: the caller may hold it already (a pull
        // request within one repository), and only this path writes refs/pull/N/head after
        // creation; updates of one head branch are serialised by the head repository's queue.
        if (base !== repo) await fetchInto(path(base), path(repo), `refs/heads/${change.ref}`, `refs/pull/${issue.number}/head`)
        else await updateRef(path(base), `refs/pull/${issue.number}/head`, after)
        state.setPullHead(base, issue.number, after)
        webhooks.emit(base.key, 'pull_request', () => ({
          action: 'synchronize', number: issue.number, before, after, pull_request: render.pull(base, issue, true),
          repository: render.repo(base, undefined, false), sender
        }))
      }
    }
  }

  async function createRepoOnDisk (spec: SeedRepo): Promise<RepoRecord> {
    const repo = state.createRepo({
      owner: spec.owner,
      name: spec.name,
      ...(spec.defaultBranch != null ? { defaultBranch: spec.defaultBranch } : {}),
      ...(spec.description != null ? { description: spec.description } : {}),
      ...(spec.permissions != null ? { permissions: spec.permissions } : {}),
      ...(spec.labels != null ? { labels: spec.labels } : {}),
      ...(spec.denyForcePush != null ? { denyForcePush: spec.denyForcePush } : {})
    })
    const owner = state.user(spec.owner)
    await initRepo(path(repo), {
      defaultBranch: repo.defaultBranch,
      files: spec.files ?? {},
      denyForcePush: repo.denyForcePush,
      author: { name: owner?.name ?? spec.owner, email: owner?.email ?? `${spec.owner}@users.noreply.localhost` }
    })
    await refreshRefs(repo)
    repo.sizeKb = repo.branches.size > 0 ? 1 : 0
    for (const i of spec.issues ?? []) seedIssue(repo, i)
    return repo
  }

  function seedIssue (repo: RepoRecord, i: SeedIssue): IssueRecord {
    const issue = state.createIssue(repo, i.author, { title: i.title, body: i.body, labels: i.labels, assignees: i.assignees }, true)
    if (i.state === 'closed') state.updateIssue(repo, i.author, issue.number, { state: 'closed' }, true)
    return issue
  }

  function startFork (parent: RepoRecord, fork: RepoRecord): void {
    const readyAt = now() + forkDelayMs
    void track((async () => {
      await gitQueue.run(parent.key, async () => { await cloneBare(path(parent), path(fork)) })
      const wait = readyAt - now()
      if (wait > 0) await sleep(wait)
      fork.gitReady = true
      fork.sizeKb = 1
      fork.branches = new Map()
      await gitQueue.run(fork.key, async () => { await refreshRefs(fork) })
      events.emit('fork-ready', { owner: fork.owner, repo: fork.name })
    })())
  }

  // ------------------------------------------------------------------ routes: users, rate limit

  router.add('GET', '/user', (ctx) => {
    ctx.login()
    return { status: 200, body: render.fullUser(ctx.actor as UserRecord, true) }
  })
  router.add('GET', '/users/:login', (ctx) => {
    const u = state.user(ctx.params.login ?? '')
    if (u == null) throw notFound()
    return { status: 200, body: render.fullUser(u, false) }
  })
  router.add('GET', '/rate_limit', (ctx) => {
    const p = limiter.primary(ctx.actor?.login.toLowerCase())
    const core = { limit: p.limit, remaining: p.remaining, reset: p.reset, used: p.used }
    const other = (limit: number): Json => ({ limit, remaining: limit, reset: p.reset, used: 0 })
    return { status: 200, body: { resources: { core, search: other(30), graphql: other(5000), integration_manifest: other(5000), code_search: other(10) }, rate: core } }
  })

  // ------------------------------------------------------------------ routes: repositories, forks

  router.add('GET', '/repos/:owner/:repo', (ctx) => ({ status: 200, body: render.repo(repoOf(ctx), ctx.actor?.login) }))

  router.add('POST', '/repos/:owner/:repo/forks', (ctx) => {
    const repo = repoOf(ctx)
    const login = ctx.login()
    if (!repo.gitReady || repo.branches.size === 0) throw new ApiError(403, 'Repository is empty.')
    const { fork, created } = state.fork(repo, login, { organization: ctx.body.organization, name: ctx.body.name })
    if (created) {
      startFork(repo, fork)
      emit(repo, 'fork', () => ({ forkee: render.repo(fork, login) }), ctx)
    }
    return { status: 202, body: render.repo(fork, login) }
  })
  router.add('GET', '/repos/:owner/:repo/forks', (ctx) => {
    const repo = repoOf(ctx)
    const sort = oneOf(ctx.query.get('sort'), ['newest', 'oldest', 'stargazers', 'watchers'] as const, 'newest')
    const forks = repo.forks.map((k) => state.repoByKey(k)).sort((a, b) => sort === 'oldest' ? a.id - b.id : b.id - a.id)
    const { page, headers } = paginate(ctx, forks)
    return { status: 200, body: page.map((f) => render.repo(f, ctx.actor?.login, false)), headers }
  })

  // ------------------------------------------------------------------ routes: branches and refs

  const readyRepo = (ctx: Ctx): RepoRecord => {
    const repo = repoOf(ctx)
    if (!repo.gitReady) throw new ApiError(404, 'Branch not found')
    return repo
  }
  router.add('GET', '/repos/:owner/:repo/branches', (ctx) => {
    const repo = repoOf(ctx)
    const branches = repo.gitReady ? [...repo.branches.entries()].sort(([a], [b]) => a.localeCompare(b)) : []
    const { page, headers } = paginate(ctx, branches)
    return { status: 200, body: page.map(([name, sha]) => render.shortBranch(repo, name, sha)), headers }
  })
  router.add('GET', '/repos/:owner/:repo/branches/:branch+', async (ctx) => {
    const repo = readyRepo(ctx)
    const name = ctx.params.branch ?? ''
    const sha = repo.branches.get(name)
    if (sha == null) throw new ApiError(404, 'Branch not found')
    const commit = await readCommit(path(repo), sha)
    if (commit == null) throw new ApiError(404, 'Branch not found')
    return { status: 200, body: render.branch(repo, name, commit) }
  })
  const getRef = (ctx: Ctx): Reply => {
    const repo = readyRepo(ctx)
    const ref = ctx.params.ref ?? ''
    const m = /^heads\/(.+)$/.exec(ref)
    const sha = m?.[1] != null ? repo.branches.get(m[1]) : undefined
    if (sha == null) throw notFound()
    return { status: 200, body: render.ref(repo, `refs/${ref}`, sha) }
  }
  router.add('GET', '/repos/:owner/:repo/git/ref/:ref+', getRef)
  router.add('GET', '/repos/:owner/:repo/git/refs/:ref+', getRef)
  router.add('GET', '/repos/:owner/:repo/git/matching-refs/:ref+', (ctx) => {
    const repo = readyRepo(ctx)
    const prefix = ctx.params.ref ?? ''
    const out = [...repo.branches.entries()]
      .map(([name, sha]) => [`refs/heads/${name}`, sha] as const)
      .filter(([ref]) => ref.startsWith(`refs/${prefix}`))
      .sort(([a], [b]) => a.localeCompare(b))
    return { status: 200, body: out.map(([ref, sha]) => render.ref(repo, ref, sha)) }
  })
  const requirePush = (repo: RepoRecord, login: string): void => {
    if (!atLeast(state.permission(repo, login), 'write')) throw new ApiError(403, 'Resource not accessible by personal access token')
  }
  router.add('POST', '/repos/:owner/:repo/git/refs', async (ctx) => {
    const repo = readyRepo(ctx)
    const login = ctx.login()
    requirePush(repo, login)
    const ref = ctx.body.ref
    const sha = ctx.body.sha
    if (typeof ref !== 'string' || !/^refs\/[^/]+\/.+/.test(ref)) throw new ApiError(422, 'Reference name is invalid')
    if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) throw new ApiError(422, 'Object does not exist')
    if (ref.startsWith('refs/pull/')) throw new ApiError(422, 'Reference name is invalid')
    await gitQueue.run(repo.key, async () => {
      if (!(await objectExists(path(repo), sha))) throw new ApiError(422, 'Object does not exist')
      if (!(await updateRef(path(repo), ref, sha, ZERO_SHA))) throw new ApiError(422, 'Reference already exists')
      await refreshRefs(repo, ctx.actor)
    })
    return { status: 201, body: render.ref(repo, ref, sha), headers: { location: `${url}/repos/${repo.owner}/${repo.name}/git/${ref}` } }
  })
  router.add('PATCH', '/repos/:owner/:repo/git/refs/:ref+', async (ctx) => {
    const repo = readyRepo(ctx)
    const login = ctx.login()
    requirePush(repo, login)
    const ref = `refs/${ctx.params.ref ?? ''}`
    const sha = ctx.body.sha
    if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) throw new ApiError(422, 'Object does not exist')
    await gitQueue.run(repo.key, async () => {
      const m = /^refs\/heads\/(.+)$/.exec(ref)
      const current = m?.[1] != null ? (await readHeads(path(repo))).get(m[1]) : undefined
      if (current == null) throw new ApiError(422, 'Reference does not exist')
      if (!(await objectExists(path(repo), sha))) throw new ApiError(422, 'Object does not exist')
      if (ctx.body.force !== true && !(await isAncestor(path(repo), current, sha))) throw new ApiError(422, 'Update is not a fast forward')
      if (!(await updateRef(path(repo), ref, sha, current))) throw new ApiError(422, 'Reference cannot be updated')
      await refreshRefs(repo, ctx.actor)
    })
    return { status: 200, body: render.ref(repo, ref, sha) }
  })
  router.add('DELETE', '/repos/:owner/:repo/git/refs/:ref+', async (ctx) => {
    const repo = readyRepo(ctx)
    requirePush(repo, ctx.login())
    const ref = `refs/${ctx.params.ref ?? ''}`
    await gitQueue.run(repo.key, async () => {
      if (!(await deleteRef(path(repo), ref))) throw new ApiError(422, 'Reference does not exist')
      await refreshRefs(repo, ctx.actor)
    })
    return { status: 204 }
  })

  // ------------------------------------------------------------------ routes: issues

  router.add('GET', '/repos/:owner/:repo/issues', (ctx) => {
    const repo = repoOf(ctx)
    const q = ctx.query
    const filter: IssueFilter = {
      state: oneOf(q.get('state'), ['open', 'closed', 'all'] as const, 'open'),
      sort: oneOf(q.get('sort'), ['created', 'updated', 'comments'] as const, 'created'),
      direction: oneOf(q.get('direction'), ['asc', 'desc'] as const, 'desc')
    }
    const labels = q.get('labels')
    if (labels != null && labels !== '') filter.labels = labels.split(',').map((l) => l.trim())
    const assignee = q.get('assignee')
    if (assignee != null && assignee !== '') filter.assignee = assignee
    const creator = q.get('creator')
    if (creator != null && creator !== '') filter.creator = creator
    const since = parseTime(q.get('since'), 'since')
    if (since != null) filter.since = since
    const { page, headers } = paginate(ctx, state.listIssues(repo, filter, listAt()))
    return { status: 200, body: page.map((i) => render.issue(repo, i)), headers }
  })
  router.add('POST', '/repos/:owner/:repo/issues', (ctx) => {
    const repo = repoOf(ctx)
    const issue = state.createIssue(repo, ctx.login(), ctx.body)
    const body = render.issue(repo, issue)
    emit(repo, 'issues', () => ({ action: 'opened', issue: body }), ctx)
    return { status: 201, body, headers: { location: String(body.url) } }
  })
  router.add('GET', '/repos/:owner/:repo/issues/comments', (ctx) => {
    const repo = repoOf(ctx)
    const list = state.listComments(repo, undefined, {
      since: parseTime(ctx.query.get('since'), 'since'),
      sort: oneOf(ctx.query.get('sort'), ['created', 'updated'] as const, 'created'),
      direction: oneOf(ctx.query.get('direction'), ['asc', 'desc'] as const, 'asc')
    }, listAt())
    const { page, headers } = paginate(ctx, list)
    return { status: 200, body: page.map((c) => render.comment(repo, c)), headers }
  })
  router.add('GET', '/repos/:owner/:repo/issues/comments/:id', (ctx) => {
    const repo = repoOf(ctx)
    return { status: 200, body: render.comment(repo, state.comment(repo, numberOf(ctx, 'id'))) }
  })
  router.add('PATCH', '/repos/:owner/:repo/issues/comments/:id', (ctx) => {
    const repo = repoOf(ctx)
    const from = state.comment(repo, numberOf(ctx, 'id')).body
    const c = state.updateComment(repo, ctx.login(), numberOf(ctx, 'id'), ctx.body.body)
    const body = render.comment(repo, c)
    const issue = repo.issues.get(c.issueNumber)
    if (issue != null) emit(repo, 'issue_comment', () => ({ action: 'edited', issue: render.issue(repo, issue), comment: body, changes: { body: { from } } }), ctx)
    return { status: 200, body }
  })
  router.add('DELETE', '/repos/:owner/:repo/issues/comments/:id', (ctx) => {
    const repo = repoOf(ctx)
    const c = state.deleteComment(repo, ctx.login(), numberOf(ctx, 'id'))
    const issue = repo.issues.get(c.issueNumber)
    if (issue != null) emit(repo, 'issue_comment', () => ({ action: 'deleted', issue: render.issue(repo, issue), comment: render.comment(repo, c) }), ctx)
    return { status: 204 }
  })
  router.add('GET', '/repos/:owner/:repo/issues/:number', (ctx) => {
    const repo = repoOf(ctx)
    return { status: 200, body: render.issue(repo, state.issue(repo, numberOf(ctx))) }
  })
  router.add('PATCH', '/repos/:owner/:repo/issues/:number', (ctx) => {
    const repo = repoOf(ctx)
    const old = { ...state.issue(repo, numberOf(ctx)) }
    const issue = state.updateIssue(repo, ctx.login(), numberOf(ctx), ctx.body)
    const body = render.issue(repo, issue)
    const action = issue.state !== old.state ? (issue.state === 'closed' ? 'closed' : 'reopened') : 'edited'
    const extra = action === 'edited' ? { changes: editChanges(old, issue) } : {}
    if (issue.pull != null) emit(repo, 'pull_request', () => ({ action, number: issue.number, pull_request: render.pull(repo, issue, true), ...extra }), ctx)
    else emit(repo, 'issues', () => ({ action, issue: body, ...extra }), ctx)
    return { status: 200, body }
  })
  router.add('GET', '/repos/:owner/:repo/issues/:number/comments', (ctx) => {
    const repo = repoOf(ctx)
    const list = state.listComments(repo, numberOf(ctx), { since: parseTime(ctx.query.get('since'), 'since') }, listAt())
    const { page, headers } = paginate(ctx, list)
    return { status: 200, body: page.map((c) => render.comment(repo, c)), headers }
  })
  router.add('POST', '/repos/:owner/:repo/issues/:number/comments', (ctx) => {
    const repo = repoOf(ctx)
    const c = state.createComment(repo, ctx.login(), numberOf(ctx), ctx.body.body)
    const body = render.comment(repo, c)
    emit(repo, 'issue_comment', () => ({ action: 'created', issue: render.issue(repo, state.issue(repo, c.issueNumber)), comment: body }), ctx)
    return { status: 201, body, headers: { location: String(body.url) } }
  })
  router.add('POST', '/repos/:owner/:repo/issues/:number/assignees', (ctx) => {
    const repo = repoOf(ctx)
    const issue = state.addAssignees(repo, ctx.login(), numberOf(ctx), ctx.body.assignees ?? [])
    const body = render.issue(repo, issue)
    emit(repo, 'issues', () => ({ action: 'assigned', issue: body }), ctx)
    return { status: 201, body }
  })
  router.add('DELETE', '/repos/:owner/:repo/issues/:number/assignees', (ctx) => {
    const repo = repoOf(ctx)
    const issue = state.removeAssignees(repo, ctx.login(), numberOf(ctx), ctx.body.assignees ?? [])
    const body = render.issue(repo, issue)
    emit(repo, 'issues', () => ({ action: 'unassigned', issue: body }), ctx)
    return { status: 200, body }
  })
  router.add('GET', '/repos/:owner/:repo/assignees/:login', (ctx) => {
    const repo = repoOf(ctx)
    if (!state.assignable(repo, ctx.params.login ?? '')) throw notFound()
    return { status: 204 }
  })
  router.add('GET', '/repos/:owner/:repo/collaborators/:login/permission', (ctx) => {
    const repo = repoOf(ctx)
    const u = state.user(ctx.params.login ?? '')
    if (u == null) throw notFound()
    const perm = state.permission(repo, u.login)
    const legacy = perm === 'admin' ? 'admin' : perm === 'write' ? 'write' : 'read'
    return { status: 200, body: { permission: legacy, role_name: perm, user: { ...render.user(u), role_name: perm, permissions: { admin: perm === 'admin', maintain: perm === 'admin', push: atLeast(perm, 'write'), triage: atLeast(perm, 'triage'), pull: true } } } }
  })

  // ------------------------------------------------------------------ routes: labels

  router.add('GET', '/repos/:owner/:repo/labels', (ctx) => {
    const repo = repoOf(ctx)
    const { page, headers } = paginate(ctx, state.listLabels(repo))
    return { status: 200, body: page.map((l) => render.label(repo, l)), headers }
  })
  router.add('POST', '/repos/:owner/:repo/labels', (ctx) => {
    const repo = repoOf(ctx)
    const l = state.createLabel(repo, ctx.login(), ctx.body)
    return { status: 201, body: render.label(repo, l) }
  })
  router.add('GET', '/repos/:owner/:repo/labels/:name', (ctx) => {
    const repo = repoOf(ctx)
    const l = state.labelByName(repo, ctx.params.name ?? '')
    if (l == null) throw notFound()
    return { status: 200, body: render.label(repo, l) }
  })
  router.add('PATCH', '/repos/:owner/:repo/labels/:name', (ctx) => {
    const repo = repoOf(ctx)
    return { status: 200, body: render.label(repo, state.updateLabel(repo, ctx.login(), ctx.params.name ?? '', ctx.body)) }
  })
  router.add('DELETE', '/repos/:owner/:repo/labels/:name', (ctx) => {
    const repo = repoOf(ctx)
    state.deleteLabel(repo, ctx.login(), ctx.params.name ?? '')
    return { status: 204 }
  })
  router.add('GET', '/repos/:owner/:repo/issues/:number/labels', (ctx) => {
    const repo = repoOf(ctx)
    const { page, headers } = paginate(ctx, state.issueLabels(repo, state.issue(repo, numberOf(ctx))))
    return { status: 200, body: page.map((l) => render.label(repo, l)), headers }
  })
  const labelReply = (ctx: Ctx, repo: RepoRecord, action: string): Reply => {
    const issue = state.issue(repo, numberOf(ctx))
    emit(repo, issue.pull != null ? 'pull_request' : 'issues', () => issue.pull != null ? { action, number: issue.number, pull_request: render.pull(repo, issue, true) } : { action, issue: render.issue(repo, issue) }, ctx)
    return { status: 200, body: state.issueLabels(repo, issue).map((l) => render.label(repo, l)) }
  }
  router.add('POST', '/repos/:owner/:repo/issues/:number/labels', (ctx) => {
    const repo = repoOf(ctx)
    state.addLabels(repo, ctx.login(), numberOf(ctx), labelsParam(ctx))
    return labelReply(ctx, repo, 'labeled')
  })
  router.add('PUT', '/repos/:owner/:repo/issues/:number/labels', (ctx) => {
    const repo = repoOf(ctx)
    state.setLabels(repo, ctx.login(), numberOf(ctx), labelsParam(ctx) ?? [])
    return labelReply(ctx, repo, 'labeled')
  })
  router.add('DELETE', '/repos/:owner/:repo/issues/:number/labels', (ctx) => {
    const repo = repoOf(ctx)
    state.setLabels(repo, ctx.login(), numberOf(ctx), [])
    labelReply(ctx, repo, 'unlabeled')
    return { status: 204 }
  })
  router.add('DELETE', '/repos/:owner/:repo/issues/:number/labels/:name', (ctx) => {
    const repo = repoOf(ctx)
    state.removeLabel(repo, ctx.login(), numberOf(ctx), ctx.params.name ?? '')
    return labelReply(ctx, repo, 'unlabeled')
  })

  // ------------------------------------------------------------------ routes: pull requests

  router.add('GET', '/repos/:owner/:repo/pulls', (ctx) => {
    const repo = repoOf(ctx)
    const q = ctx.query
    const list = state.listPulls(repo, {
      state: oneOf(q.get('state'), ['open', 'closed', 'all'] as const, 'open'),
      sort: oneOf(q.get('sort'), ['created', 'updated'] as const, 'created'),
      direction: oneOf(q.get('direction'), ['asc', 'desc'] as const, 'desc'),
      ...(q.get('head') != null ? { head: q.get('head') ?? '' } : {}),
      ...(q.get('base') != null ? { base: q.get('base') ?? '' } : {})
    }, listAt())
    const { page, headers } = paginate(ctx, list)
    return { status: 200, body: page.map((i) => render.pull(repo, i, false, ctx.actor?.login)), headers }
  })
  router.add('GET', '/repos/:owner/:repo/pulls/:number', (ctx) => {
    const repo = repoOf(ctx)
    return { status: 200, body: render.pull(repo, state.pull(repo, numberOf(ctx)), true, ctx.actor?.login) }
  })
  router.add('PATCH', '/repos/:owner/:repo/pulls/:number', (ctx) => {
    const repo = repoOf(ctx)
    const old = { ...state.pull(repo, numberOf(ctx)) }
    const pr = state.updatePull(repo, ctx.login(), numberOf(ctx), ctx.body)
    const body = render.pull(repo, pr, true, ctx.actor?.login)
    const action = pr.state !== old.state ? (pr.state === 'closed' ? 'closed' : 'reopened') : 'edited'
    emit(repo, 'pull_request', () => ({ action, number: pr.number, pull_request: body, ...(action === 'edited' ? { changes: editChanges(old, pr) } : {}) }), ctx)
    return { status: 200, body }
  })
  router.add('POST', '/repos/:owner/:repo/pulls', async (ctx) => {
    const repo = repoOf(ctx)
    const login = ctx.login()
    const b = ctx.body
    if (typeof b.title !== 'string' && b.issue == null) throw validationFailed({ resource: 'PullRequest', field: 'title', code: 'missing_field' })
    if (typeof b.head !== 'string' || b.head === '') throw validationFailed({ resource: 'PullRequest', field: 'head', code: 'missing_field' })
    if (typeof b.base !== 'string' || b.base === '') throw validationFailed({ resource: 'PullRequest', field: 'base', code: 'missing_field' })
    const baseRef = b.base
    const [headOwner, headRef] = b.head.includes(':') ? b.head.split(':', 2) as [string, string] : [repo.owner, b.head]
    const headRepo = headOwner.toLowerCase() === repo.owner.toLowerCase() ? repo : state.networkRepoOf(repo, headOwner)
    const invalid = (field: string): ApiError => validationFailed({ resource: 'PullRequest', field, code: 'invalid' })
    if (headRepo == null || !headRepo.gitReady) throw invalid('head')
    const headSha = headRepo.branches.get(headRef)
    if (headSha == null) throw invalid('head')
    const baseSha = repo.branches.get(baseRef)
    if (baseSha == null) throw invalid('base')
    state.checkPull(repo, { headRepo, headRef, baseRef })
    const tmp = `refs/forge-tmp/${randomUUID()}`
    const issue = await gitQueue.run(repo.key, async () => {
      try {
        if (headRepo !== repo) await fetchInto(path(repo), path(headRepo), `refs/heads/${headRef}`, tmp)
        if (await isAncestor(path(repo), headSha, baseSha)) {
          throw validationFailed({ resource: 'PullRequest', code: 'custom', message: `No commits between ${baseRef} and ${b.head as string}` })
        }
        let title = typeof b.title === 'string' ? b.title : ''
        let body = typeof b.body === 'string' ? b.body : null
        if (b.issue != null) {
          const from = state.issue(repo, Number(b.issue))
          title = from.title
          body = from.body
        }
        const pr = state.createPull(repo, login, {
          title, body, headRepo, headRef, headSha, baseRef, baseSha,
          draft: b.draft === true, maintainerCanModify: b.maintainer_can_modify !== false
        })
        await updateRef(path(repo), `refs/pull/${pr.number}/head`, headSha)
        return pr
      } finally {
        if (headRepo !== repo) await deleteRef(path(repo), tmp)
      }
    })
    const body = render.pull(repo, issue, true, login)
    emit(repo, 'pull_request', () => ({ action: 'opened', number: issue.number, pull_request: body }), ctx)
    return { status: 201, body, headers: { location: String(body.url) } }
  })

  // ------------------------------------------------------------------ HTTP plumbing

  const errorBody = (status: number, message: string, extra: Json = {}): Json =>
    ({ message, ...extra, documentation_url: DOCS, status: String(status) })

  function rateHeaders (p: PrimaryState): Record<string, string> {
    return {
      'x-ratelimit-limit': String(p.limit),
      'x-ratelimit-remaining': String(p.remaining),
      'x-ratelimit-reset': String(p.reset),
      'x-ratelimit-used': String(p.used),
      'x-ratelimit-resource': 'core'
    }
  }

  function send (res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
    if (res.headersSent || res.destroyed) return
    const text = body === undefined ? '' : JSON.stringify(body)
    res.writeHead(status, {
      // The answer's Date comes from the forge's clock, the same one as every timestamp it
      // gives (node's own Date header would use the real clock even when `now` is injected).
      date: new Date(now()).toUTCString(),
      ...headers,
      ...(text !== '' ? { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) } : {})
    })
    res.end(text)
  }

  const contentCreating = (method: string, pattern: string): boolean =>
    method === 'POST' && /\/(issues|comments|pulls|forks|labels|git\/refs)$/.test(pattern)

  function authenticate (req: IncomingMessage): { actor?: UserRecord, bad: boolean } {
    const h = req.headers.authorization
    if (h == null || h === '') return { bad: false }
    const m = /^(token|bearer|basic)\s+(.+)$/i.exec(h.trim())
    if (m == null) return { bad: true }
    let token = m[2] ?? ''
    if (m[1]?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(token, 'base64').toString('utf8')
      const i = decoded.indexOf(':')
      const user = i < 0 ? decoded : decoded.slice(0, i)
      const pass = i < 0 ? '' : decoded.slice(i + 1)
      token = pass !== '' ? pass : user
    }
    const actor = state.userByToken(token)
    return actor == null ? { bad: true } : { actor, bad: false }
  }

  async function handleRest (req: IncomingMessage, res: ServerResponse, reqUrl: URL): Promise<void> {
    const method = req.method ?? 'GET'
    const requestId = randomUUID().slice(0, 18).toUpperCase()
    const base: Record<string, string> = {
      'x-github-request-id': requestId,
      'x-github-media-type': 'github.v3; format=json',
      'x-github-api-version-selected': '2022-11-28'
    }
    const { actor, bad } = authenticate(req)
    const t0 = performance.now()
    res.once('finish', () => {
      if (events.listenerCount('request') > 0) {
        events.emit('request', { method, path: reqUrl.pathname, status: res.statusCode, login: actor?.login ?? null, ms: performance.now() - t0 })
      }
    })
    if (bad) {
      send(res, 401, errorBody(401, 'Bad credentials'), base)
      return
    }
    const who = actor?.login.toLowerCase()
    if (!READ_METHODS.has(method) && CONDITIONAL.some((h) => req.headers[h] != null)) {
      send(res, 400, errorBody(400, 'Conditional request headers are not allowed in unsafe requests unless supported by the endpoint'), base)
      return
    }
    const isRateLimitEndpoint = reqUrl.pathname === '/rate_limit'
    // Faults are drawn for every request (so a seeded run replays), before anything else.
    const fault = isRateLimitEndpoint ? { kind: 'none' as const, latencyMs: 0, errorAfterApply: false } : faults.decide()
    const route = router.match(method, reqUrl.pathname)
    const pattern = 'handler' in route ? route.pattern : ''
    const burst = isRateLimitEndpoint ? undefined : faults.activeBurst(now())
    if (fault.kind === 'rate-limit' || burst?.kind === 'secondary') {
      const retryAfter = burst != null ? Math.max(1, Math.ceil((burst.until - now()) / 1000)) : limiter.settings.secondaryRetryAfterS
      send(res, limiter.settings.secondaryStatus, errorBody(limiter.settings.secondaryStatus, secondaryMessage(requestId)),
        { ...base, ...rateHeaders(limiter.primary(who)), 'retry-after': String(retryAfter) })
      return
    }
    if (burst?.kind === 'primary') {
      const p = { ...limiter.primary(who), remaining: 0, reset: Math.ceil(burst.until / 1000) }
      send(res, limiter.settings.primaryStatus, errorBody(limiter.settings.primaryStatus, primaryMessage(actor, req)), { ...base, ...rateHeaders(p) })
      return
    }
    let release: ((refund: boolean) => void) | undefined
    let primary = limiter.primary(who)
    if (!isRateLimitEndpoint) {
      const admission = limiter.admit(who, method, contentCreating(method, pattern))
      if (!admission.ok) {
        if (admission.kind === 'primary') {
          send(res, admission.status, errorBody(admission.status, primaryMessage(actor, req)), { ...base, ...rateHeaders(admission.primary) })
        } else {
          send(res, admission.status, errorBody(admission.status, secondaryMessage(requestId)),
            { ...base, ...rateHeaders(admission.primary), 'retry-after': String(admission.retryAfterS) })
        }
        return
      }
      release = admission.release
      primary = admission.primary
    }
    let refund = false
    try {
      // Latency holds the request's slot (it counts against the concurrency limit while it waits).
      if (fault.latencyMs > 0) await sleep(fault.latencyMs)
      if (fault.kind === 'error') {
        send(res, fault.status, errorBody(fault.status, fault.status === 503 ? 'Service Unavailable' : 'Server Error'), { ...base, ...rateHeaders(primary) })
        return
      }
      if (!('handler' in route)) {
        send(res, 404, errorBody(404, 'Not Found'), { ...base, ...rateHeaders(primary) })
        return
      }
      let rawBody: unknown = {}
      if (!READ_METHODS.has(method)) {
        const buf = await readBody(req)
        if (buf == null) {
          send(res, 413, errorBody(413, 'Payload too large'), { ...base, ...rateHeaders(primary), connection: 'close' })
          return
        }
        if (buf.length > 0) {
          try {
            rawBody = JSON.parse(buf.toString('utf8'))
          } catch {
            send(res, 400, errorBody(400, 'Problems parsing JSON'), { ...base, ...rateHeaders(primary) })
            return
          }
        }
      }
      const body = rawBody != null && typeof rawBody === 'object' && !Array.isArray(rawBody) ? rawBody as Record<string, unknown> : {}
      const ctx: Ctx = {
        req,
        url: reqUrl,
        params: route.params,
        query: reqUrl.searchParams,
        body,
        rawBody,
        actor,
        login: () => {
          if (actor == null) throw new ApiError(401, 'Requires authentication')
          return actor.login
        }
      }
      let reply: Reply
      try {
        reply = await route.handler(ctx)
      } catch (err) {
        if (!(err instanceof ApiError)) throw err
        const extra: Json = err.errors != null ? { errors: err.errors } : {}
        send(res, err.status, errorBody(err.status, err.message, extra), { ...base, ...rateHeaders(primary), ...err.headers })
        return
      }
      if (fault.kind === 'none' && fault.errorAfterApply && !READ_METHODS.has(method)) {
        send(res, 502, errorBody(502, 'Server Error'), base)
        return
      }
      const headers: Record<string, string> = { ...base, ...rateHeaders(primary), ...(reply.headers ?? {}) }
      if (reply.body !== undefined && reply.status < 300) {
        // The same representation gives the same ETag, whichever request returned it.
        const etag = `W/"${createHash('sha256').update(`${who ?? ''}\n${JSON.stringify(reply.body)}`).digest('hex')}"`
        headers.etag = etag
        headers['cache-control'] = 'private, max-age=60, s-maxage=60'
        headers.vary = 'Accept, Authorization, Cookie, X-GitHub-OTP'
      }
      const etag = headers.etag
      if (method === 'GET' && reply.status === 200 && etag != null) {
        const inm = req.headers['if-none-match']
        if (inm != null && inm.split(',').map((s) => s.trim()).some((t) => t === etag || t === etag.slice(2) || t === '*')) {
          refund = true
          release?.(true)
          release = undefined
          send(res, 304, undefined, { ...headers, ...rateHeaders(limiter.primary(who)) })
          return
        }
      }
      send(res, reply.status, reply.body, headers)
    } finally {
      release?.(refund)
    }
  }

  function secondaryMessage (requestId: string): string {
    return `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${requestId}.`
  }

  function primaryMessage (actor: UserRecord | undefined, req: IncomingMessage): string {
    return actor != null
      ? `API rate limit exceeded for user ID ${actor.id}. If you reach out to GitHub Support for help, please include the request ID.`
      : `API rate limit exceeded for ${req.socket.remoteAddress ?? '127.0.0.1'}. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)`
  }

  // ------------------------------------------------------------------ git smart HTTP

  const GIT_PATH = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/

  async function handleGit (req: IncomingMessage, res: ServerResponse, reqUrl: URL, m: RegExpExecArray): Promise<void> {
    const repo = state.findRepo(m[1] ?? '', m[2] ?? '')
    const text = (status: number, msg: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers })
      res.end(`${msg}\n`)
    }
    if (repo == null || !repo.gitReady) { text(404, 'Repository not found.'); return }
    const action = m[3] ?? ''
    const service = action === 'info/refs' ? reqUrl.searchParams.get('service') : action
    const push = service === 'git-receive-pack'
    const { actor, bad } = authenticate(req)
    if (bad) { text(401, 'Invalid username or token. Password authentication is not supported for Git operations.', { 'www-authenticate': 'Basic realm="GitHub"' }); return }
    if (push) {
      if (actor == null) { text(401, 'Authentication required.', { 'www-authenticate': 'Basic realm="GitHub"' }); return }
      if (!atLeast(state.permission(repo, actor.login), 'write')) {
        text(403, `Permission to ${repo.owner}/${repo.name}.git denied to ${actor.login}.`)
        return
      }
    }
    const pathInfo = `/${repo.key}.git/${action}`
    const query = reqUrl.search.replace(/^\?/, '')
    const remoteUser = actor?.login
    if (push && action === 'git-receive-pack') {
      // One receive-pack at a time per repository, and the API's state follows before the client hears back.
      await gitQueue.run(repo.key, async () => {
        await serveHttpBackend(req, res, { projectRoot: dataDir, pathInfo, query, ...(remoteUser != null ? { remoteUser } : {}), beforeEnd: async () => { await refreshRefs(repo, actor) } })
      })
      return
    }
    await serveHttpBackend(req, res, { projectRoot: dataDir, pathInfo, query, ...(remoteUser != null ? { remoteUser } : {}) })
  }

  // ------------------------------------------------------------------ server

  const server: Server = createServer((req, res) => {
    const reqUrl = new URL(req.url ?? '/', 'http://forge.invalid')
    const gitMatch = GIT_PATH.exec(reqUrl.pathname)
    const work = gitMatch != null ? handleGit(req, res, reqUrl, gitMatch) : handleRest(req, res, reqUrl)
    void track(work.catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
        res.end(JSON.stringify({ message: 'Server Error', documentation_url: DOCS, status: '500' }))
      } else res.destroy()
      if (process.env.BZZZ_FORGE_DEBUG != null) console.error('forge: request failed', err)
    }))
  })
  server.keepAliveTimeout = 5_000

  for (const u of init.seed?.users ?? []) state.addUser(u)
  for (const o of init.seed?.orgs ?? []) state.addOrg(o)

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(init.port ?? 0, init.host ?? '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const address = server.address()
  const port = typeof address === 'object' && address != null ? address.port : 0
  const host = init.host ?? '127.0.0.1'
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  render = new Renderer(state, url)

  try {
    for (const r of init.seed?.repos ?? []) await createRepoOnDisk(r)
  } catch (err) {
    server.close()
    if (ownDataDir) await rm(dataDir, { recursive: true, force: true })
    throw err
  }

  let closed = false
  const forge: Forge = {
    events,
    url,
    port,
    dataDir,
    state,
    deliveries: webhooks.deliveries,
    gitUrl: (owner, repo, token) => {
      const u = new URL(`${url}/${owner}/${repo}.git`)
      if (token != null) { u.username = 'x-access-token'; u.password = token }
      return u.toString()
    },
    repoPath: (owner, repo) => path(state.repo(owner, repo)),
    setFaults: (f) => { faults.configure(f) },
    setRateLimit: (c) => { limiter.configure(c) },
    resetRateLimits: () => { limiter.reset() },
    rateLimitUsage: (login) => limiter.primary(login?.toLowerCase()),
    burstRateLimit: (kind, durationMs) => { faults.burst(kind, now() + durationMs) },
    addUser: (u) => state.addUser(u),
    addRepo: async (r, options = {}) => {
      // Checked before anything is made: once begun, a repository is created in full (never half).
      options.signal?.throwIfAborted()
      return await createRepoOnDisk(r)
    },
    createIssue: (owner, repo, i) => seedIssue(state.repo(owner, repo), i),
    addWebhook: (owner, repo, hook) => webhooks.add(state.repo(owner, repo).key, hook),
    removeWebhook: (id) => { webhooks.remove(id) },
    settled: async () => {
      while (background.size > 0) await Promise.allSettled([...background])
      await gitQueue.idle()
      await webhooks.settled()
    },
    close: async () => {
      if (closed) return
      closed = true
      const done = new Promise<void>((resolve) => server.close(() => { resolve() }))
      server.closeIdleConnections()
      setTimeout(() => server.closeAllConnections(), 2_000).unref()
      await done
      await forge.settled().catch(() => {})
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true })
    }
  }
  return forge
}
