/**
 * What every route module shares: the request context a handler gets, its reply, the forge's
 * components (`ForgeServices`) and the helpers built on them (repository of a path,
 * pagination with GitHub's `Link` header, webhook emission).
 */
import type { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { ApiError, notFound, validationFailed } from '../errors.js'
import type { FaultInjector } from '../faults.js'
import type { KeyedQueue } from '../git.js'
import type { RateLimiter } from '../ratelimit.js'
import type { Json, Renderer } from '../render.js'
import { atLeast } from '../state.js'
import type { ForgeState, IssueRecord, RepoRecord, UserRecord } from '../state.js'
import type { ForgeEvents } from '../types.js'
import type { Webhooks } from '../webhooks.js'

export interface Reply {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

export interface Ctx {
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

export type Handler = (ctx: Ctx) => Reply | Promise<Reply>

/** The forge's components, shared by the HTTP layer, the git layer and every route module. */
export interface ForgeCore {
  readonly state: ForgeState
  readonly faults: FaultInjector
  readonly limiter: RateLimiter
  readonly webhooks: Webhooks
  readonly gitQueue: KeyedQueue
  readonly events: EventEmitter<ForgeEvents>
  readonly now: () => number
  readonly dataDir: string
  readonly forkDelayMs: number
  /** `http://host:port`, set once the server listens. */
  url: string
  /** Renders with `url`; replaced once the server listens. */
  render: Renderer
  /** Path of a repository's bare git directory. */
  path: (r: RepoRecord) => string
  /** Keep a background promise until it settles (`forge.settled()` waits for it). */
  track: <T>(p: Promise<T>) => Promise<T>
}

export interface ForgeServices extends ForgeCore {
  /** Re-read a repository's branches after its refs changed, and follow pull request heads. */
  refreshRefs: (repo: RepoRecord, pusher?: UserRecord) => Promise<void>
  /** Copy a fork's git objects in the background; the fork is ready after `forkDelayMs`. */
  startFork: (parent: RepoRecord, fork: RepoRecord) => void
}

export function int (v: string | null | undefined, fallback: number): number {
  if (v == null || v === '') return fallback
  const n = Number(v)
  return Number.isInteger(n) ? n : fallback
}

export function parseTime (v: string | null, field: string): number | undefined {
  if (v == null || v === '') return undefined
  const t = Date.parse(v)
  if (Number.isNaN(t)) throw validationFailed({ resource: 'Search', field, code: 'invalid' })
  return t
}

export function oneOf<T extends string> (v: string | null, allowed: readonly T[], fallback: T): T {
  if (v == null || v === '') return fallback
  return (allowed as readonly string[]).includes(v) ? v as T : fallback
}

/** The `changes` of an `edited` webhook: previous title and body where they changed. */
export const editChanges = (old: Pick<IssueRecord, 'title' | 'body'>, now: Pick<IssueRecord, 'title' | 'body'>): Json => ({
  ...(old.title !== now.title ? { title: { from: old.title } } : {}),
  ...(old.body !== now.body ? { body: { from: old.body ?? '' } } : {})
})

/** Accepts {labels: [...]}, a bare array, or {labels: [{name}]}. */
export const labelsParam = (ctx: Ctx): unknown => {
  if (Array.isArray(ctx.rawBody)) return ctx.rawBody
  return ctx.body.labels
}

export interface RouteHelpers {
  /** The repository named by `:owner/:repo` (404 when there is none). */
  repoOf: (ctx: Ctx) => RepoRecord
  /** A positive integer path parameter (404 otherwise). */
  numberOf: (ctx: Ctx, name?: string) => number
  /** The time lists are viewed at (`listLagMs` in the past), or undefined for now. */
  listAt: () => number | undefined
  /** Deliver a webhook event of `repo` (built only when a hook wants it). */
  emit: (repo: RepoRecord, event: string, build: Json | (() => Json), ctx?: Ctx) => void
  /** One page of `items` and GitHub's `Link` header. */
  paginate: <T>(ctx: Ctx, items: T[]) => { page: T[], headers: Record<string, string> }
  /** A repository whose git objects exist (a fork still being made answers 404). */
  readyRepo: (ctx: Ctx) => RepoRecord
  /** 403 unless `login` may push to `repo`. */
  requirePush: (repo: RepoRecord, login: string) => void
}

export function routeHelpers (f: ForgeCore): RouteHelpers {
  const { state, faults, webhooks, now } = f
  const repoOf = (ctx: Ctx): RepoRecord => state.repo(ctx.params.owner ?? '', ctx.params.repo ?? '')
  const sender = (ctx: Ctx): Json | undefined => ctx.actor == null ? undefined : f.render.user(ctx.actor)
  return {
    repoOf,
    numberOf: (ctx, name = 'number') => {
      const n = Number(ctx.params[name])
      if (!Number.isInteger(n) || n <= 0) throw notFound()
      return n
    },
    listAt: () => {
      const lag = faults.settings.listLagMs ?? 0
      return lag > 0 ? now() - lag : undefined
    },
    emit: (repo, event, build, ctx) => {
      if (!webhooks.wants(repo.key, event)) return
      const payload = typeof build === 'function' ? build() : build
      webhooks.emit(repo.key, event, () => ({ ...payload, repository: f.render.repo(repo, undefined, false), ...(ctx != null ? { sender: sender(ctx) } : {}) }))
    },
    paginate: <T>(ctx: Ctx, items: T[]): { page: T[], headers: Record<string, string> } => {
      const perPage = Math.min(100, Math.max(1, int(ctx.query.get('per_page'), 30)))
      const page = Math.max(1, int(ctx.query.get('page'), 1))
      const last = Math.max(1, Math.ceil(items.length / perPage))
      const link = (p: number): string => {
        const u = new URL(`${f.url}${ctx.url.pathname}${ctx.url.search}`)
        u.searchParams.set('per_page', String(perPage))
        u.searchParams.set('page', String(p))
        return u.toString()
      }
      const parts: string[] = []
      if (page > 1) parts.push(`<${link(Math.min(page - 1, last))}>; rel="prev"`)
      if (page < last) parts.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`)
      if (page > 1) parts.push(`<${link(1)}>; rel="first"`)
      return { page: items.slice((page - 1) * perPage, page * perPage), headers: parts.length > 0 ? { link: parts.join(', ') } : {} }
    },
    readyRepo: (ctx) => {
      const repo = repoOf(ctx)
      if (!repo.gitReady) throw new ApiError(404, 'Branch not found')
      return repo
    },
    requirePush: (repo, login) => {
      if (!atLeast(state.permission(repo, login), 'write')) throw new ApiError(403, 'Resource not accessible by personal access token')
    }
  }
}
