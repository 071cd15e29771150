/**
 * GitHub's REST rate limits as pure logic (the clock is injected): the primary hourly
 * limit per user, and the secondary limits — concurrent requests, points per minute
 * (a write costs more than a read), content-creating requests per minute and per hour.
 * See https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
 */

export interface RateLimitConfig {
  /** Requests per hour for an authenticated user (GitHub: 5000). */
  primaryLimit: number
  /** Requests per hour without a token (GitHub: 60). */
  anonymousLimit: number
  /** Length of the primary window in ms (GitHub: one hour). */
  primaryWindowMs: number
  /** Status of a primary-limit answer: GitHub sends 403 (sometimes 429). */
  primaryStatus: 403 | 429
  /** Requests in flight at once per user (GitHub: 100). */
  concurrent: number
  /** Points per minute (GitHub: 900 for REST). */
  pointsPerMinute: number
  /** Points a GET/HEAD/OPTIONS costs (GitHub: 1). */
  readPoints: number
  /** Points a POST/PATCH/PUT/DELETE costs (GitHub: 5). */
  writePoints: number
  /** Content-creating requests per minute (GitHub: 80). */
  contentPerMinute: number
  /** Content-creating requests per hour (GitHub: 500). */
  contentPerHour: number
  /** Status of a secondary-limit answer: GitHub sends 403 or 429. */
  secondaryStatus: 403 | 429
  /** `retry-after` seconds of a secondary-limit answer when no window tells better (GitHub: 60). */
  secondaryRetryAfterS: number
}

export const DEFAULT_RATE_LIMIT: RateLimitConfig = {
  primaryLimit: 5000,
  anonymousLimit: 60,
  primaryWindowMs: 3_600_000,
  primaryStatus: 403,
  concurrent: 100,
  pointsPerMinute: 900,
  readPoints: 1,
  writePoints: 5,
  contentPerMinute: 80,
  contentPerHour: 500,
  secondaryStatus: 403,
  secondaryRetryAfterS: 60
}

export interface PrimaryState {
  limit: number
  remaining: number
  used: number
  /** Epoch seconds at which the window resets. */
  reset: number
}

export type Admission =
  | { ok: true, primary: PrimaryState, release: (refund: boolean) => void }
  | { ok: false, kind: 'primary', status: number, primary: PrimaryState }
  | { ok: false, kind: 'secondary', status: number, primary: PrimaryState, retryAfterS: number, reason: 'concurrent' | 'points' | 'content-minute' | 'content-hour' | 'burst' }

interface Bucket {
  windowStart: number
  used: number
  inFlight: number
  points: Array<{ at: number, cost: number }>
  content: number[]
}

const MINUTE = 60_000
const HOUR = 3_600_000

export class RateLimiter {
  private config: RateLimitConfig
  private readonly buckets = new Map<string, Bucket>()
  private readonly now: () => number

  constructor (config: Partial<RateLimitConfig> = {}, now: () => number = Date.now) {
    this.config = { ...DEFAULT_RATE_LIMIT, ...config }
    this.now = now
  }

  get settings (): Readonly<RateLimitConfig> {
    return this.config
  }

  configure (config: Partial<RateLimitConfig>): void {
    this.config = { ...this.config, ...config }
  }

  /** Forget all usage (new windows for everyone). */
  reset (): void {
    this.buckets.clear()
  }

  private bucket (who: string | undefined): Bucket {
    const key = who ?? '<anonymous>'
    let b = this.buckets.get(key)
    const now = this.now()
    if (b == null) {
      b = { windowStart: now, used: 0, inFlight: 0, points: [], content: [] }
      this.buckets.set(key, b)
    }
    if (now - b.windowStart >= this.config.primaryWindowMs) {
      b.windowStart = now
      b.used = 0
    }
    while (b.points.length > 0 && (b.points[0]?.at ?? 0) <= now - MINUTE) b.points.shift()
    while (b.content.length > 0 && (b.content[0] ?? 0) <= now - HOUR) b.content.shift()
    return b
  }

  /** The primary limit of `who` without using any of it (for `GET /rate_limit` and headers). */
  primary (who: string | undefined): PrimaryState {
    const b = this.bucket(who)
    const limit = who == null ? this.config.anonymousLimit : this.config.primaryLimit
    return {
      limit,
      used: b.used,
      remaining: Math.max(0, limit - b.used),
      reset: Math.ceil((b.windowStart + this.config.primaryWindowMs) / 1000)
    }
  }

  /**
   * Admit one request, charging it. `release(refund)` must be called when it finishes;
   * `refund` gives the primary charge back (a 304 does not count, as on GitHub).
   */
  admit (who: string | undefined, method: string, contentCreating: boolean): Admission {
    const c = this.config
    const b = this.bucket(who)
    const now = this.now()
    const primary = this.primary(who)
    if (primary.remaining <= 0) return { ok: false, kind: 'primary', status: c.primaryStatus, primary }
    const secondary = (reason: 'concurrent' | 'points' | 'content-minute' | 'content-hour', retryAfterS: number): Admission =>
      ({ ok: false, kind: 'secondary', status: c.secondaryStatus, primary, retryAfterS: Math.max(1, Math.ceil(retryAfterS)), reason })
    if (b.inFlight >= c.concurrent) return secondary('concurrent', c.secondaryRetryAfterS)
    const write = !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase())
    const cost = write ? c.writePoints : c.readPoints
    const spent = b.points.reduce((s, p) => s + p.cost, 0)
    if (spent + cost > c.pointsPerMinute) {
      // Wait until enough of the oldest points leave the minute window.
      let freed = 0
      let until = now
      for (const p of b.points) {
        freed += p.cost
        until = p.at + MINUTE
        if (spent - freed + cost <= c.pointsPerMinute) break
      }
      return secondary('points', (until - now) / 1000)
    }
    if (contentCreating) {
      const lastMinute = b.content.filter((t) => t > now - MINUTE)
      if (lastMinute.length >= c.contentPerMinute) return secondary('content-minute', ((lastMinute[0] ?? now) + MINUTE - now) / 1000)
      if (b.content.length >= c.contentPerHour) return secondary('content-hour', ((b.content[0] ?? now) + HOUR - now) / 1000)
      b.content.push(now)
    }
    b.used++
    b.inFlight++
    b.points.push({ at: now, cost })
    const charged = { ...primary, used: b.used, remaining: Math.max(0, primary.limit - b.used) }
    const windowStart = b.windowStart
    let released = false
    return {
      ok: true,
      primary: charged,
      release: (refund: boolean) => {
        if (released) return
        released = true
        b.inFlight--
        if (refund && b.windowStart === windowStart && b.used > 0) b.used--
      }
    }
  }
}
