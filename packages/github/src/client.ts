import { randomUUID } from 'node:crypto'
import { Octokit } from '@octokit/core'
import { restEndpointMethods } from '@octokit/plugin-rest-endpoint-methods'
import { retry } from '@octokit/plugin-retry'
import { throttling, type ThrottlingOptions } from '@octokit/plugin-throttling'
import Bottleneck from 'bottleneck'
import type { Endpoints } from '@octokit/types'
import { GitHubRequestError, RateLimitError } from './errors.js'
import { redact, resolveToken, type TokenSource } from './token.js'

/** A logger; every line this package hands it has been redacted. */
export interface Logger {
  debug: (message: string) => void
  info: (message: string) => void
  warn: (message: string) => void
  error: (message: string) => void
}

export interface ThrottleInit {
  /** Minimum time between two writes (POST/PATCH/PUT/DELETE), as GitHub asks. Default 1000 ms. */
  writeMinTimeMs?: number
  /** Minimum time between writes that notify people (comments, issues, pull requests). Default 3000 ms. */
  notificationMinTimeMs?: number
  /** Requests in flight at once (GitHub's secondary limit allows 100). Default 10, as Octokit's throttling plugin. */
  maxConcurrent?: number
  /** How many times a rate-limited request is retried after waiting. Default 2. */
  maxRetries?: number
  /** The longest wait (seconds) accepted before a retry; beyond it the request fails with a `RateLimitError`. Default 120. */
  maxWaitSeconds?: number
  /** Milliseconds per second of `retry-after` (tests shrink it). Default 1000. */
  retryAfterBaseMs?: number
}

export interface RetryInit {
  /** Retries of an idempotent request after a 5xx or no answer. Default 3. */
  retries?: number
  /** Milliseconds per unit of Octokit's quadratic backoff (1, 4, 9 … units). Default 1000. */
  retryAfterBaseMs?: number
}

export interface GitHubClientInit {
  /** Where the token comes from: `{ file }`, `{ env }`, a function, or the token itself. */
  token: TokenSource
  /** REST API root. Default `https://api.github.com`. */
  baseUrl?: string
  /** Git over HTTPS root, for fork URLs when the API does not give `clone_url`. Default `https://github.com`. */
  gitBaseUrl?: string
  userAgent?: string
  throttle?: ThrottleInit
  retry?: RetryInit
  /** Where log lines go (a pino logger fits); without one the client is silent. */
  log?: Partial<Logger>
}

/** Requests of one scope (a task, a watcher, the client itself). */
export interface RequestCounts {
  /** Requests that count against the primary rate limit: every answered request except `304 Not Modified` and `GET /rate_limit`. */
  counted: number
  /** `304 Not Modified` answers to conditional requests (free). */
  notModified: number
  /** Every attempt sent, retries included. */
  attempts: number
  /** Attempts refused by a primary or secondary rate limit (not in `counted`: a refused request is not served). */
  rateLimited: number
  /** Attempts answered with a 5xx or not answered at all. */
  serverErrors: number
}

export interface CallOptions {
  signal?: AbortSignal
  /** The accounting scope, e.g. `task:org/repo#42` or `watcher:org/repo`. Default `client`. */
  scope?: string
  /** An `ETag` from an earlier answer: the request becomes conditional and a `304` comes back as `notModified`. */
  etag?: string
  /** Let Octokit's retry plugin repeat the request after a 5xx. Default: true except for POST. */
  retry?: boolean
}

export interface ApiResponse<T> {
  status: number
  /** `undefined` when `notModified`. */
  data: T
  notModified: boolean
  etag: string | undefined
  /** The server's clock at the answer, from the `Date` header (ms since epoch), when given. */
  serverTime: number | undefined
  link: string | undefined
}

type Route = keyof Endpoints
type Params<R extends Route> = Endpoints[R]['parameters']
type Data<R extends Route> = Endpoints[R]['response']['data']

export interface GitHubClient {
  /** The REST API root the client talks to. */
  readonly baseUrl: string
  readonly gitBaseUrl: string
  /** A request by route, through throttling, retries and accounting; failures are `GitHubRequestError`s. */
  request: <R extends Route>(route: R, params: Params<R>, options?: CallOptions) => Promise<ApiResponse<Data<R>>>
  /** The authenticated user's login (one request, then cached). */
  login: (options?: { signal?: AbortSignal }) => Promise<string>
  /** Counts per scope, and their sum under `total`. */
  requestCounts: () => { total: RequestCounts, scopes: Record<string, RequestCounts> }
  /** Counts of one scope (zeros when it made no request). */
  scopeCounts: (scope: string) => RequestCounts
  /** Removes the token (and its Basic-auth forms) from a text. */
  redact: (text: string) => string
  /**
   * Environment for a git child process that authenticates to `gitBaseUrl` without the token
   * appearing in its arguments or in the remote URL (an `http.extraHeader` given through
   * `GIT_CONFIG_*` variables). Merge it into the child's `env`.
   */
  gitEnv: () => Record<string, string>
  readonly log: Logger
}

const SCOPE_KEY = 'bzzzScope'

function emptyCounts (): RequestCounts {
  return { counted: 0, notModified: 0, attempts: 0, rateLimited: 0, serverErrors: 0 }
}

interface OctokitLikeError {
  status?: number
  message?: string
  response?: { status: number, headers: Record<string, string | undefined>, data?: unknown }
}

function isRateLimited (status: number, headers: Record<string, string | undefined> | undefined, message: string): boolean {
  if (status !== 403 && status !== 429) return false
  return status === 429 || headers?.['x-ratelimit-remaining'] === '0' || /rate limit/i.test(message)
}

/** Creates a GitHub client: Octokit core + REST methods + throttling + retries, with accounting and redaction. */
export async function createGitHubClient (init: GitHubClientInit): Promise<GitHubClient> {
  const token = await resolveToken(init.token)
  const secrets = [token]
  const clean = (text: string): string => redact(text, secrets)
  const log: Logger = {
    debug: (m) => { init.log?.debug?.(clean(m)) },
    info: (m) => { init.log?.info?.(clean(m)) },
    warn: (m) => { init.log?.warn?.(clean(m)) },
    error: (m) => { init.log?.error?.(clean(m)) }
  }
  const fmt = (args: unknown[]): string => args.map((a) => a instanceof Error ? `${a.name}: ${a.message}` : typeof a === 'string' ? a : safeJson(a)).join(' ')

  const counts = new Map<string, RequestCounts>()
  const record = (scope: string, status: number, url: string, rateLimited: boolean): void => {
    let c = counts.get(scope)
    if (c === undefined) { c = emptyCounts(); counts.set(scope, c) }
    c.attempts++
    if (status === 0 || status >= 500) c.serverErrors++
    if (rateLimited) { c.rateLimited++; return }
    if (status === 0) return
    if (status === 304) { c.notModified++; return }
    if (/\/rate_limit(?:\?|$)/.test(url)) return
    c.counted++
  }

  const counting = (octokit: Octokit): Record<string, never> => {
    octokit.hook.wrap('request', async (request, options) => {
      const scope = typeof options.request?.[SCOPE_KEY] === 'string' ? options.request[SCOPE_KEY] as string : 'client'
      try {
        const res = await request(options)
        record(scope, res.status, options.url, false)
        return res
      } catch (err) {
        const e = err as OctokitLikeError
        const status = e.response?.status ?? 0
        record(scope, status, options.url, isRateLimited(status, e.response?.headers, e.message ?? ''))
        throw err
      }
    })
    return {}
  }

  const th = init.throttle ?? {}
  const maxRetries = th.maxRetries ?? 2
  const maxWait = th.maxWaitSeconds ?? 120
  const id = randomUUID()
  const group = (minTime: number): Bottleneck.Group => new Bottleneck.Group({ maxConcurrent: minTime > 0 ? 1 : null, minTime })
  const onLimit = (kind: string) => (retryAfter: number, options: { method: string, url: string }, _o: unknown, retryCount: number): boolean => {
    const again = retryCount < maxRetries && retryAfter <= maxWait
    log.warn(`${kind} rate limit on ${options.method} ${options.url}; ${again ? `retrying after ${retryAfter} s` : 'giving up'}`)
    return again
  }

  const MyOctokit = Octokit.plugin(counting, restEndpointMethods, retry, throttling)
  const baseUrl = (init.baseUrl ?? 'https://api.github.com').replace(/\/+$/, '')
  const gitBaseUrl = (init.gitBaseUrl ?? 'https://github.com').replace(/\/+$/, '')
  const octokit = new MyOctokit({
    auth: token,
    baseUrl,
    userAgent: init.userAgent ?? 'bzzz',
    log: {
      debug: (...a: unknown[]) => { log.debug(fmt(a)) },
      info: (...a: unknown[]) => { log.info(fmt(a)) },
      warn: (...a: unknown[]) => { log.warn(fmt(a)) },
      error: (...a: unknown[]) => { log.error(fmt(a)) }
    },
    retry: {
      retries: init.retry?.retries ?? 3,
      retryAfterBaseValue: init.retry?.retryAfterBaseMs ?? 1000,
      // 429 and 403 are the throttling plugin's; the rest are answers a retry cannot change.
      doNotRetry: [400, 401, 403, 404, 409, 410, 422, 429, 451]
    },
    throttle: {
      id,
      global: new Bottleneck.Group({ maxConcurrent: th.maxConcurrent ?? 10 }),
      write: group(th.writeMinTimeMs ?? 1000),
      notifications: group(th.notificationMinTimeMs ?? 3000),
      retryAfterBaseValue: th.retryAfterBaseMs ?? 1000,
      fallbackSecondaryRateRetryAfter: 60,
      onRateLimit: onLimit('primary'),
      onSecondaryRateLimit: onLimit('secondary')
    } as ThrottlingOptions // `global` is honoured by the plugin but missing from its type
  })

  const toError = (err: unknown, method: string, route: string): Error => {
    if (err instanceof Error && err.name === 'AbortError') return err
    const e = err as OctokitLikeError
    const status = e.response?.status ?? 0
    const headers = e.response?.headers
    const data = e.response?.data as { message?: unknown, errors?: unknown } | undefined
    const sub = Array.isArray(data?.errors)
      ? (data.errors as Array<{ message?: unknown, code?: unknown }>).map((x) => typeof x?.message === 'string' ? x.message : typeof x?.code === 'string' ? x.code : '').filter((x) => x !== '')
      : []
    const main = typeof data?.message === 'string' ? data.message : status === 0 ? (e.message ?? 'no answer') : ''
    const detail = clean([main, ...sub].filter((x) => x !== '').join('; ')).slice(0, 500)
    const info = { status, method, route, requestId: headers?.['x-github-request-id'], detail }
    if (isRateLimited(status, headers, typeof data?.message === 'string' ? data.message : '')) {
      const primary = headers?.['x-ratelimit-remaining'] === '0'
      const ra = Number(headers?.['retry-after'])
      const reset = Number(headers?.['x-ratelimit-reset'])
      const retryAfter = Number.isFinite(ra) && ra > 0
        ? ra
        : primary && Number.isFinite(reset) && reset > 0 ? Math.max(0, Math.ceil(reset - Date.now() / 1000)) : undefined
      return new RateLimitError(info, retryAfter, !primary)
    }
    return new GitHubRequestError(info)
  }

  const request = async <R extends Route>(route: R, params: Params<R>, options: CallOptions = {}): Promise<ApiResponse<Data<R>>> => {
    const method = route.split(' ')[0] ?? 'GET'
    const retryAllowed = options.retry ?? method !== 'POST'
    const p = params as Record<string, unknown> & { headers?: Record<string, string> }
    const headers: Record<string, string> = { ...(p.headers ?? {}) }
    if (options.etag !== undefined) headers['if-none-match'] = options.etag
    const req: Record<string, unknown> = { [SCOPE_KEY]: options.scope ?? 'client' }
    if (options.signal !== undefined) req.signal = options.signal
    if (!retryAllowed) req.retries = 0
    options.signal?.throwIfAborted()
    try {
      const res = await octokit.request(route, { ...p, headers, request: req } as never) as { status: number, data: Data<R>, headers: Record<string, string | undefined> }
      return {
        status: res.status,
        data: res.data,
        notModified: false,
        etag: res.headers.etag,
        serverTime: parseDate(res.headers.date),
        link: res.headers.link
      }
    } catch (err) {
      const e = err as OctokitLikeError
      if (e.response?.status === 304) {
        return {
          status: 304,
          data: undefined as Data<R>,
          notModified: true,
          etag: e.response.headers.etag ?? options.etag,
          serverTime: parseDate(e.response.headers.date),
          link: e.response.headers.link
        }
      }
      if (options.signal?.aborted === true) throw options.signal.reason
      throw toError(err, method, route)
    }
  }

  let login: Promise<string> | undefined
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64')

  return {
    baseUrl,
    gitBaseUrl,
    request,
    log,
    async login (options = {}) {
      options.signal?.throwIfAborted()
      // Shared by every caller, so made without any one caller's signal (whose abort would fail
      // the others); each caller stops waiting on its own signal.
      if (login === undefined) {
        const p = request('GET /user', {}).then((r) => r.data.login)
        login = p
        p.catch(() => { if (login === p) login = undefined })
      }
      const shared = login
      const signal = options.signal
      if (signal === undefined) return await shared
      let onAbort: (() => void) | undefined
      try {
        return await new Promise<string>((resolve, reject) => {
          onAbort = () => { reject(signal.reason) }
          signal.addEventListener('abort', onAbort, { once: true })
          shared.then(resolve, reject)
        })
      } finally {
        if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
      }
    },
    requestCounts () {
      const total = emptyCounts()
      const scopes: Record<string, RequestCounts> = {}
      for (const [scope, c] of counts) {
        scopes[scope] = { ...c }
        for (const k of Object.keys(total) as Array<keyof RequestCounts>) total[k] += c[k]
      }
      return { total, scopes }
    },
    scopeCounts (scope) {
      return { ...(counts.get(scope) ?? emptyCounts()) }
    },
    redact: clean,
    gitEnv () {
      return {
        GIT_TERMINAL_PROMPT: '0',
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: `http.${gitBaseUrl}/.extraHeader`,
        GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`
      }
    }
  }
}

function parseDate (value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

function safeJson (value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}
