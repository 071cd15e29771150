/** Exponential backoff with jitter, for redialling peers that went away. */
export interface BackoffOptions {
  /** Delay before the first retry, ms. */
  initialDelayMs: number
  /** Largest delay, ms. */
  maxDelayMs: number
  /** Growth factor per failed attempt. */
  factor: number
  /** Fraction of the delay randomised away (0: none, 0.5: between 50 % and 100 % of it). */
  jitter: number
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.25
}

/**
 * The delay before retry number `attempt` (0 is the first retry): `initial * factor^attempt`,
 * capped at `maxDelayMs`, less up to `jitter` of it. `random` returns a number in [0, 1).
 */
export function backoffDelay (attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exp = options.initialDelayMs * Math.pow(options.factor, Math.max(0, attempt))
  const capped = Math.min(options.maxDelayMs, Number.isFinite(exp) ? exp : options.maxDelayMs)
  const r = Math.min(Math.max(random(), 0), 1)
  return Math.max(0, Math.round(capped * (1 - options.jitter * r)))
}

interface BackoffEntry { attempts: number, nextAt: number }

/** Per-peer backoff state: when each peer may next be dialled. */
export class BackoffTable {
  readonly #entries = new Map<string, BackoffEntry>()
  readonly #options: BackoffOptions
  readonly #random: () => number

  constructor (options: BackoffOptions, random: () => number = Math.random) {
    this.#options = options
    this.#random = random
  }

  /** Whether `peer` may be dialled at `now`. */
  isDue (peer: string, now: number): boolean {
    const entry = this.#entries.get(peer)
    return entry === undefined || entry.nextAt <= now
  }

  /** A dial to `peer` failed at `now` (or it went away): wait longer before the next one. */
  failed (peer: string, now: number): number {
    const entry = this.#entries.get(peer) ?? { attempts: 0, nextAt: now }
    const delay = backoffDelay(entry.attempts, this.#options, this.#random)
    entry.attempts += 1
    entry.nextAt = now + delay
    this.#entries.set(peer, entry)
    return delay
  }

  /** `peer` is connected: its next failure starts the schedule over. */
  succeeded (peer: string): void {
    this.#entries.delete(peer)
  }

  /** How many peers have an entry. */
  get size (): number {
    return this.#entries.size
  }

  attempts (peer: string): number {
    return this.#entries.get(peer)?.attempts ?? 0
  }

  nextAt (peer: string): number | undefined {
    return this.#entries.get(peer)?.nextAt
  }

  /** Forgets peers not seen for a long time, keeping the table bounded. */
  prune (keep: (peer: string) => boolean): void {
    for (const peer of this.#entries.keys()) if (!keep(peer)) this.#entries.delete(peer)
  }
}

export interface DialPlanInput {
  /** Peers connected now. */
  connected: ReadonlySet<string>
  /** Peers being dialled now. */
  dialling: ReadonlySet<string>
  /** Bootstrap peers: always wanted, whatever the connection count. */
  bootstrap: readonly string[]
  /** Other peers known with an address (discovered, or met before). */
  known: readonly string[]
  /** How many connections to keep. */
  target: number
  /** Whether a peer's backoff allows a dial now. */
  isDue: (peer: string) => boolean
  /** Our own peer ID, never dialled. */
  self: string
  /** Returns a number in [0, 1), for picking among candidates. */
  random?: () => number
}

/**
 * Which peers to dial now: every bootstrap peer that is neither connected nor dialled nor
 * backing off, then random other known peers until the connections (counting dials under
 * way) would reach `target`.
 */
export function planDials (input: DialPlanInput): string[] {
  const random = input.random ?? Math.random
  const busy = (peer: string): boolean =>
    peer === input.self || input.connected.has(peer) || input.dialling.has(peer) || !input.isDue(peer)
  const plan: string[] = []
  const chosen = new Set<string>()
  for (const peer of input.bootstrap) {
    if (!busy(peer) && !chosen.has(peer)) {
      plan.push(peer)
      chosen.add(peer)
    }
  }
  const missing = input.target - input.connected.size - input.dialling.size - plan.length
  if (missing <= 0) return plan
  const candidates = [...new Set(input.known)].filter((peer) => !busy(peer) && !chosen.has(peer))
  // Partial Fisher-Yates: the first `missing` entries become a uniform random sample.
  const take = Math.min(missing, candidates.length)
  for (let i = 0; i < take; i++) {
    const r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON)
    const j = i + Math.floor(r * (candidates.length - i))
    const picked = candidates[j] as string
    candidates[j] = candidates[i] as string
    candidates[i] = picked
    plan.push(picked)
  }
  return plan
}
