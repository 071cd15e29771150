/**
 * The REST half of the forge's HTTP server: authentication, faults, rate limits, body
 * parsing, routing to the resource handlers (routes/), errors in GitHub's shape, ETags and
 * conditional reads.
 */
import { createHash, randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { ApiError } from './errors.js'
import type { PrimaryState } from './ratelimit.js'
import type { Json } from './render.js'
import type { Router } from './router.js'
import type { Ctx, ForgeCore, Handler, Reply } from './routes/common.js'
import type { ForgeState, UserRecord } from './state.js'

export const DOCS = 'https://docs.github.com/rest'
const CONDITIONAL = ['if-none-match', 'if-match', 'if-modified-since', 'if-unmodified-since']
const READ_METHODS = new Set(['GET', 'HEAD'])

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

/** The user a request's `Authorization` header names; `bad` for a malformed header or an unknown token. */
export function authenticate (state: ForgeState, req: IncomingMessage): { actor?: UserRecord, bad: boolean } {
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

/** The handler of every request that is not git smart HTTP. */
export function restHandler (f: ForgeCore, router: Router<Handler>): (req: IncomingMessage, res: ServerResponse, reqUrl: URL) => Promise<void> {
  const { state, faults, limiter, events, now } = f

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


  async function handleRest (req: IncomingMessage, res: ServerResponse, reqUrl: URL): Promise<void> {
    const method = req.method ?? 'GET'
    const requestId = randomUUID().slice(0, 18).toUpperCase()
    const base: Record<string, string> = {
      'x-github-request-id': requestId,
      'x-github-media-type': 'github.v3; format=json',
      'x-github-api-version-selected': '2022-11-28'
    }
    const { actor, bad } = authenticate(state, req)
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

  return handleRest
}
