// An in-memory model of the part of GitHub the claim handle and the publisher use, on a virtual
// clock, with GitHub's behaviour that matters to claims: increasing comment ids, timestamps and
// `Date` rounded down to the second, lists that lag (each read sees the state of up to `lagMaxMs`
// ago), page-number paging, ETags and free 304s, and faults injected per request: a 5xx before
// or after applying, no answer, an application held for a while (then a 502), an answer delayed.
import { createHash } from 'node:crypto'
import type { Clock } from './claimer.js'
import type { ApiResponse, GitHubClient, RequestCounts } from './client.js'
import { GitHubRequestError } from './errors.js'

/** A clock that moves only when told; timers fire in order, and promise chains settle between them. */
export class VirtualClock implements Clock {
  private t = 0
  private seq = 0
  private readonly timers: Array<{ at: number, seq: number, fn: () => void }> = []

  now (): number { return this.t }

  at (ms: number, fn: () => void): () => void {
    const timer = { at: ms, seq: this.seq++, fn }
    let i = this.timers.length
    while (i > 0 && (this.timers[i - 1]!.at > ms || (this.timers[i - 1]!.at === ms && this.timers[i - 1]!.seq > timer.seq))) i--
    this.timers.splice(i, 0, timer)
    return () => { const k = this.timers.indexOf(timer); if (k >= 0) this.timers.splice(k, 1) }
  }

  async sleep (ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { cancel(); reject(signal!.reason) }
      const cancel = this.at(this.t + Math.max(0, ms), () => { signal?.removeEventListener('abort', onAbort); resolve() })
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Runs every timer due within `ms`, letting promise chains settle after each. */
  async advance (ms: number): Promise<void> {
    const end = this.t + ms
    await settle()
    for (;;) {
      const next = this.timers[0]
      if (next === undefined || next.at > end) break
      this.timers.shift()
      this.t = Math.max(this.t, next.at)
      next.fn()
      await settle()
    }
    this.t = end
    await settle()
  }
}

async function settle (): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
}

export type FaultKind = 'error-before' | 'error-after' | 'no-answer' | 'held' | 'slow-answer'
export interface Fault { kind: FaultKind, method: string, delayMs: number }

interface Version { at: number, body: string | undefined, updatedAt: number, deleted: boolean }
interface CommentRec { id: number, issue: number, author: string, createdAt: number, versions: Version[] }
interface PullRec { number: number, author: string, body: string, head: string, ref: string, createdAt: number }

const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')

export interface MemoryGitHubInit {
  clock: VirtualClock
  /** Each list read sees the state of `lag` ms ago, `lag` drawn in [0, lagMaxMs]. */
  lagMaxMs: number
  /** Latency of each request (each way), drawn in [0, latencyMaxMs]. */
  latencyMaxMs: number
  random: () => number
  /** Server time at virtual 0 (so that timestamps look like today's). */
  epoch?: number
}

/** The model's server: shared by every client made from it. */
export class MemoryGitHub {
  readonly clock: VirtualClock
  lagMaxMs: number
  private readonly latencyMaxMs: number
  private readonly random: () => number
  private readonly epoch: number
  private nextId = 1000
  private nextNumber = 100
  readonly comments = new Map<number, CommentRec>()
  readonly pulls: PullRec[] = []
  /** Every write applied, in order, with its server time: the test's record of what happened. */
  readonly applied: Array<{ at: number, login: string, what: string, id: number }> = []

  constructor (init: MemoryGitHubInit) {
    this.clock = init.clock
    this.lagMaxMs = init.lagMaxMs
    this.latencyMaxMs = init.latencyMaxMs
    this.random = init.random
    this.epoch = init.epoch ?? Date.UTC(2026, 0, 1)
  }

  serverNow (): number { return this.epoch + this.clock.now() }

  private latency (): number { return Math.floor(this.random() * (this.latencyMaxMs + 1)) }

  /** Comments of an issue as a list read at server time `at` shows them. */
  listAt (issue: number, at: number): Array<{ id: number, author: string, body: string | undefined, createdAt: number, updatedAt: number }> {
    const out = []
    for (const c of this.comments.values()) {
      if (c.issue !== issue || c.createdAt > at) continue
      let v: Version | undefined
      for (const x of c.versions) if (x.at <= at) v = x
      if (v === undefined || v.deleted) continue
      out.push({ id: c.id, author: c.author, body: v.body, createdAt: c.createdAt, updatedAt: v.updatedAt })
    }
    return out.sort((a, b) => a.id - b.id)
  }

  /** The current version of a comment, or undefined when deleted or unknown. */
  current (id: number): { author: string, body: string | undefined, issue: number } | undefined {
    const c = this.comments.get(id)
    const v = c?.versions[c.versions.length - 1]
    return c === undefined || v === undefined || v.deleted ? undefined : { author: c.author, body: v.body, issue: c.issue }
  }

  renderComment (c: { id: number, author: string, body: string | undefined, createdAt: number, updatedAt: number }): Record<string, unknown> {
    return { id: c.id, body: c.body, user: { login: c.author }, created_at: iso(c.createdAt), updated_at: iso(c.updatedAt), html_url: `https://github.test/o/r/issues/1#issuecomment-${c.id}` }
  }

  // --- writes, applied at the current server time -------------------------------------------------
  postComment (login: string, issue: number, body: string): Record<string, unknown> {
    const now = this.serverNow()
    const id = this.nextId++
    this.comments.set(id, { id, issue, author: login, createdAt: now, versions: [{ at: now, body, updatedAt: now, deleted: false }] })
    this.applied.push({ at: now, login, what: 'post-comment', id })
    return this.renderComment({ id, author: login, body, createdAt: now, updatedAt: now })
  }

  editComment (login: string, id: number, body: string, asMaintainer = false): Record<string, unknown> | undefined {
    const c = this.comments.get(id)
    const v = c?.versions[c.versions.length - 1]
    if (c === undefined || v === undefined || v.deleted || (c.author !== login && !asMaintainer)) return undefined
    const now = this.serverNow()
    c.versions.push({ at: now, body, updatedAt: now, deleted: false })
    this.applied.push({ at: now, login, what: 'edit-comment', id })
    return this.renderComment({ id, author: c.author, body, createdAt: c.createdAt, updatedAt: now })
  }

  deleteComment (login: string, id: number, asMaintainer = false): boolean {
    const c = this.comments.get(id)
    const v = c?.versions[c.versions.length - 1]
    if (c === undefined || v === undefined || v.deleted || (c.author !== login && !asMaintainer)) return false
    const now = this.serverNow()
    c.versions.push({ at: now, body: undefined, updatedAt: now, deleted: true })
    this.applied.push({ at: now, login, what: 'delete-comment', id })
    return true
  }

  openPull (login: string, head: string, body: string): Record<string, unknown> | 'exists' {
    if (this.pulls.some((p) => p.head === head)) return 'exists'
    const now = this.serverNow()
    const p = { number: this.nextNumber++, author: login, body, head, ref: head.split(':')[1] ?? head, createdAt: now }
    this.pulls.push(p)
    this.applied.push({ at: now, login, what: 'open-pull', id: p.number })
    return this.renderPull(p)
  }

  private renderPull (p: PullRec): Record<string, unknown> {
    return { number: p.number, html_url: `https://github.test/o/r/pull/${p.number}`, body: p.body, user: { login: p.author }, head: { label: p.head, ref: p.ref }, created_at: iso(p.createdAt) }
  }

  /** A client for `login`, with a queue of faults for its next requests. */
  client (login: string): MemoryClient {
    return new MemoryClient(this, login)
  }

  /** What a request does at the server (applied at the current server time). */
  serve (login: string, route: string, params: Record<string, unknown>, etag: string | undefined): { status: number, data: unknown, etag?: string, link?: string } {
    const [method, path] = route.split(' ') as [string, string]
    const lag = Math.floor(this.random() * (this.lagMaxMs + 1))
    if (method === 'GET' && path.endsWith('/issues/{issue_number}/comments')) {
      const all = this.listAt(Number(params.issue_number), this.serverNow() - lag)
      const per = Number(params.per_page ?? 30)
      const page = Number(params.page ?? 1)
      const items = all.slice((page - 1) * per, page * per).map((c) => this.renderComment(c))
      const link = page * per < all.length ? `<https://github.test/x?page=${page + 1}>; rel="next"` : undefined
      return this.conditional({ status: 200, data: items, ...(link !== undefined ? { link } : {}) }, login, etag)
    }
    if (method === 'GET' && path === '/repos/{owner}/{repo}/pulls') {
      const at = this.serverNow() - lag
      let list = this.pulls.filter((p) => p.createdAt <= at)
      if (typeof params.head === 'string') list = list.filter((p) => p.head === params.head)
      list = [...list].sort((a, b) => b.number - a.number)
      const per = Number(params.per_page ?? 30)
      const page = Number(params.page ?? 1)
      return this.conditional({ status: 200, data: list.slice((page - 1) * per, page * per).map((p) => this.renderPull(p)) }, login, etag)
    }
    if (method === 'GET' && path.endsWith('/issues/{issue_number}/timeline')) {
      // Pull requests that mention the issue, as GitHub cross-references them (oldest first).
      const at = this.serverNow() - lag
      const mention = new RegExp(`(?:^|[^\\w/#])#${Number(params.issue_number)}(?!\\d)`)
      const list = this.pulls.filter((p) => p.createdAt <= at && mention.test(p.body)).sort((a, b) => a.number - b.number)
      const per = Number(params.per_page ?? 30)
      const page = Number(params.page ?? 1)
      const data = list.slice((page - 1) * per, page * per).map((p) => ({ event: 'cross-referenced', source: { type: 'issue', issue: { ...this.renderPull(p), pull_request: { html_url: `https://github.test/o/r/pull/${p.number}` } } } }))
      return this.conditional({ status: 200, data }, login, etag)
    }
    if (method === 'GET' && path.endsWith('/issues/comments/{comment_id}')) {
      const id = Number(params.comment_id)
      const c = this.comments.get(id)
      const v = c?.versions[c.versions.length - 1]
      if (c === undefined || v === undefined || v.deleted) return { status: 404, data: { message: 'Not Found' } }
      return this.conditional({ status: 200, data: this.renderComment({ id, author: c.author, body: v.body, createdAt: c.createdAt, updatedAt: v.updatedAt }) }, login, etag)
    }
    if (method === 'POST' && path.endsWith('/issues/{issue_number}/comments')) return { status: 201, data: this.postComment(login, Number(params.issue_number), String(params.body)) }
    if (method === 'PATCH' && path.endsWith('/issues/comments/{comment_id}')) {
      const r = this.editComment(login, Number(params.comment_id), String(params.body))
      return r === undefined ? { status: 404, data: { message: 'Not Found' } } : { status: 200, data: r }
    }
    if (method === 'DELETE' && path.endsWith('/issues/comments/{comment_id}')) {
      return this.deleteComment(login, Number(params.comment_id)) ? { status: 204, data: undefined } : { status: 404, data: { message: 'Not Found' } }
    }
    if (method === 'POST' && path === '/repos/{owner}/{repo}/pulls') {
      const r = this.openPull(login, String(params.head), String(params.body))
      return r === 'exists' ? { status: 422, data: { message: 'Validation Failed', errors: [{ message: 'A pull request already exists' }] } } : { status: 201, data: r }
    }
    if (method === 'POST' && (path.endsWith('/assignees') || path.endsWith('/labels'))) return { status: 201, data: {} }
    throw new Error(`the model does not serve ${route}`)
  }

  private conditional (r: { status: number, data: unknown, link?: string }, login: string, etag: string | undefined): { status: number, data: unknown, etag: string, link?: string } {
    const tag = `W/"${createHash('sha256').update(`${login}\n${JSON.stringify(r.data)}`).digest('hex').slice(0, 32)}"`
    return etag === tag ? { status: 304, data: undefined, etag: tag, ...(r.link !== undefined ? { link: r.link } : {}) } : { ...r, etag: tag }
  }

  latencyMs (): number { return this.latency() }
}

const emptyCounts = (): RequestCounts => ({ counted: 0, notModified: 0, attempts: 0, rateLimited: 0, serverErrors: 0 })

/** A `GitHubClient` over the model: what the real client does after its retries, faults included. */
export class MemoryClient {
  readonly faults: Fault[] = []
  readonly counts = emptyCounts()
  constructor (private readonly gh: MemoryGitHub, readonly login: string) {}

  asClient (): GitHubClient {
    const gh = this.gh
    const request = async (route: string, params: Record<string, unknown>, options: { signal?: AbortSignal, etag?: string } = {}): Promise<ApiResponse<unknown>> => {
      options.signal?.throwIfAborted()
      const method = route.split(' ')[0]!
      const k = this.faults.findIndex((f) => f.method === method)
      const fault = k >= 0 ? this.faults.splice(k, 1)[0] : undefined
      this.counts.attempts++
      const error = (status: number): GitHubRequestError => new GitHubRequestError({ status, method, route })
      // Sent: from here the server acts whatever the client does (an abort only stops the waiting).
      const outcome = new Promise<ApiResponse<unknown>>((resolve, reject) => {
        const answer = (fn: () => void, delay: number): void => { gh.clock.at(gh.clock.now() + delay, fn) }
        answer(() => {
          if (fault?.kind === 'error-before') { this.counts.serverErrors++; answer(() => { reject(error(502)) }, gh.latencyMs()); return }
          const apply = (): { status: number, data: unknown, etag?: string, link?: string } => gh.serve(this.login, route, params, options.etag)
          if (fault?.kind === 'held') {
            // Held (a retry, a queue), applied late, then answered with a 502.
            answer(() => { try { apply() } catch { /* a refused write is still answered with a 502 */ } answer(() => { this.counts.serverErrors++; reject(error(502)) }, gh.latencyMs()) }, fault.delayMs)
            return
          }
          let r: { status: number, data: unknown, etag?: string, link?: string }
          try { r = apply() } catch (err) { reject(err); return }
          if (fault?.kind === 'error-after') { this.counts.serverErrors++; answer(() => { reject(error(502)) }, gh.latencyMs()); return }
          if (fault?.kind === 'no-answer') { this.counts.serverErrors++; answer(() => { reject(error(0)) }, fault.delayMs); return }
          const serverTime = Math.floor(gh.serverNow() / 1000) * 1000
          answer(() => {
            if (r.status >= 400) { this.counts.counted++; reject(new GitHubRequestError({ status: r.status, method, route, detail: JSON.stringify(r.data) })); return }
            if (r.status === 304) this.counts.notModified++
            else this.counts.counted++
            resolve({ status: r.status, data: r.data, notModified: r.status === 304, etag: r.etag, serverTime, link: r.link })
          }, gh.latencyMs() + (fault?.kind === 'slow-answer' ? fault.delayMs : 0))
        }, gh.latencyMs())
      })
      outcome.catch(() => {})
      const signal = options.signal
      if (signal === undefined) return await outcome
      return await new Promise((resolve, reject) => {
        const onAbort = (): void => { reject(signal.reason) }
        signal.addEventListener('abort', onAbort, { once: true })
        outcome.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
      })
    }
    const noop = (): void => {}
    return {
      baseUrl: 'https://github.test/api',
      gitBaseUrl: 'https://github.test',
      request: request as unknown as GitHubClient['request'],
      login: async () => this.login,
      requestCounts: () => ({ total: { ...this.counts }, scopes: {} }),
      scopeCounts: () => ({ ...this.counts }),
      redact: (t) => t,
      gitEnv: () => ({}),
      log: { debug: noop, info: noop, warn: noop, error: noop }
    }
  }
}
