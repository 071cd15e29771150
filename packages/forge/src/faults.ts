/**
 * Injected faults, drawn from a seeded generator so that a run can be replayed: the same
 * seed and the same sequence of requests give the same faults. Pure logic.
 */

export interface FaultConfig {
  /** Extra latency before each REST answer: a fixed number of ms, or a [min, max] range. */
  latencyMs?: number | [number, number]
  /** Share (0..1) of REST requests answered with a 5xx instead of being served. */
  errorRate?: number
  /** The 5xx statuses to draw from (default [500, 502, 503]). */
  errorStatuses?: number[]
  /** Share (0..1) of REST requests answered with a secondary rate limit (403/429 + retry-after). */
  rateLimitRate?: number
  /**
   * Share (0..1) of writes (POST/PATCH/PUT/DELETE) that are applied and then answered with
   * a 502 anyway, as when GitHub's front end times out after the backend did the work.
   */
  errorAfterApplyRate?: number
  /** List endpoints show the state as it was this many ms ago (eventual consistency). */
  listLagMs?: number
  /** Share (0..1) of webhook deliveries silently dropped. */
  webhookDropRate?: number
  /** Share (0..1) of webhook deliveries sent twice (same delivery id). */
  webhookDuplicateRate?: number
}

/** mulberry32: a small, fast, seedable PRNG; good enough to draw faults. */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type FaultDecision =
  | { kind: 'none', latencyMs: number, errorAfterApply: boolean }
  | { kind: 'error', latencyMs: number, status: number }
  | { kind: 'rate-limit', latencyMs: number }

export class FaultInjector {
  private config: FaultConfig
  private readonly random: () => number
  private burstUntil = 0
  private burstKind: 'primary' | 'secondary' = 'secondary'

  constructor (config: FaultConfig = {}, random: () => number = Math.random) {
    this.config = { ...config }
    this.random = random
  }

  get settings (): Readonly<FaultConfig> {
    return this.config
  }

  configure (config: FaultConfig): void {
    this.config = { ...this.config, ...config }
  }

  /** Answer every request with a rate limit until `until` (epoch ms). */
  burst (kind: 'primary' | 'secondary', until: number): void {
    this.burstKind = kind
    this.burstUntil = until
  }

  /** A burst in force at `now`, if any. */
  activeBurst (now: number): { kind: 'primary' | 'secondary', until: number } | undefined {
    return now < this.burstUntil ? { kind: this.burstKind, until: this.burstUntil } : undefined
  }

  /** Draw the fault for one REST request. Always draws the same number of values, so runs replay. */
  decide (): FaultDecision {
    const c = this.config
    const rLatency = this.random()
    const rError = this.random()
    const rStatus = this.random()
    const rLimit = this.random()
    const rAfter = this.random()
    let latencyMs = 0
    if (typeof c.latencyMs === 'number') latencyMs = c.latencyMs
    else if (Array.isArray(c.latencyMs)) latencyMs = c.latencyMs[0] + rLatency * (c.latencyMs[1] - c.latencyMs[0])
    latencyMs = Math.max(0, Math.round(latencyMs))
    if (rError < (c.errorRate ?? 0)) {
      const statuses = c.errorStatuses ?? [500, 502, 503]
      return { kind: 'error', latencyMs, status: statuses[Math.floor(rStatus * statuses.length)] ?? 500 }
    }
    if (rLimit < (c.rateLimitRate ?? 0)) return { kind: 'rate-limit', latencyMs }
    return { kind: 'none', latencyMs, errorAfterApply: rAfter < (c.errorAfterApplyRate ?? 0) }
  }

  /** Draw the fate of one webhook delivery. */
  webhook (): 'drop' | 'duplicate' | 'deliver' {
    const rDrop = this.random()
    const rDup = this.random()
    if (rDrop < (this.config.webhookDropRate ?? 0)) return 'drop'
    if (rDup < (this.config.webhookDuplicateRate ?? 0)) return 'duplicate'
    return 'deliver'
  }
}
