/** How a peer looks from here: heard recently, quiet for a while, or gone. */
export type Liveness = 'alive' | 'suspect' | 'dead'

export interface LivenessConfig {
  /**
   * How often peers are expected to send `presence_ping`. Informative: the thresholds below
   * are what decide; keep `suspectAfterMs` at two intervals or more. Default 2000.
   */
  presenceIntervalMs: number
  /** Silent this long (ms) and a peer is `suspect`. Default 5000. */
  suspectAfterMs: number
  /** Silent this long (ms) and a peer is `dead`: its tasks are offered again. Default 9000. */
  deadAfterMs: number
}

/** Defaults that find a dead peer within 10 s: pings every 2 s, suspect after 5 s, dead after 9 s. */
export const DEFAULT_LIVENESS: Readonly<LivenessConfig> = Object.freeze({
  presenceIntervalMs: 2000,
  suspectAfterMs: 5000,
  deadAfterMs: 9000
})

/** Thrown when liveness intervals do not make sense (e.g. dead before suspect). */
export class InvalidConfigError extends Error {
  readonly code = 'ERR_INVALID_CONFIG'
  readonly option: string
  constructor (option: string, message: string) {
    super(`${option}: ${message}`)
    this.name = 'InvalidConfigError'
    this.option = option
  }
}

export function livenessConfig (init: Partial<LivenessConfig> = {}): LivenessConfig {
  const config = { ...DEFAULT_LIVENESS, ...init }
  for (const [k, v] of Object.entries(config)) {
    if (!Number.isFinite(v) || v <= 0) throw new InvalidConfigError(k, 'must be a positive number of milliseconds')
  }
  if (config.deadAfterMs < config.suspectAfterMs) {
    throw new InvalidConfigError('deadAfterMs', 'must not be shorter than suspectAfterMs')
  }
  return config
}

/**
 * A peer's liveness at `now` given when it was last heard from (and, if it said goodbye or
 * its connection closed, when it left). Pure: every time is in ms on the local clock.
 * Exactly `suspectAfterMs` of silence is already suspect; exactly `deadAfterMs` is dead.
 */
export function livenessAt (lastHeardAt: number, now: number, config: LivenessConfig, leftAt?: number): Liveness {
  if (leftAt !== undefined && leftAt >= lastHeardAt) return 'dead'
  const silent = now - lastHeardAt
  if (silent < config.suspectAfterMs) return 'alive'
  if (silent < config.deadAfterMs) return 'suspect'
  return 'dead'
}

/** When a peer became (or will become) dead by silence, or the time it left. */
export function deadSince (lastHeardAt: number, config: LivenessConfig, leftAt?: number): number {
  if (leftAt !== undefined && leftAt >= lastHeardAt) return leftAt
  return lastHeardAt + config.deadAfterMs
}
