/**
 * The timed part of a scenario's faults, as a list of actions (pure). Kills are not timed:
 * they follow the run (the holder of the n-th task to start), see runner.ts. Clock skew is
 * given to the peer when it is created.
 */
import type { FaultConfig } from '@bzzz/forge'
import type { Fault } from './scenario.js'

export type Action =
  | { atMs: number, kind: 'forge-faults', faults: FaultConfig, fault: string, detail: string, phase: 'start' | 'end' }
  | { atMs: number, kind: 'rate-limit-burst', limit: 'primary' | 'secondary', durationMs: number, fault: string, detail: string, phase: 'start' | 'end' }
  | { atMs: number, kind: 'partition', groups: [number[], number[]], fault: string, detail: string, phase: 'start' | 'end' }

/** Splits peers 0..n-1 into two halves (the first half rounded down). */
export function halves (n: number): [number[], number[]] {
  const cut = Math.floor(n / 2)
  return [Array.from({ length: cut }, (_, i) => i), Array.from({ length: n - cut }, (_, i) => cut + i)]
}

const range = (xs: number[]): string => (xs.length === 0 ? '-' : xs.length === 1 ? `peer-${xs[0]}` : `peer-${xs[0]}..${xs[xs.length - 1]}`)

export function schedule (faults: readonly Fault[], peers: number): Action[] {
  const out: Action[] = []
  faults.forEach((f, i) => {
    const name = `${f.kind}#${i}`
    switch (f.kind) {
      case 'forge': {
        const detail = `${name}: 5xx ${f.errorRate ?? 0}, applied-then-502 ${f.errorAfterApplyRate ?? 0}, rate-limited ${f.rateLimitRate ?? 0}`
        out.push({ atMs: f.atMs, kind: 'forge-faults', faults: { errorRate: f.errorRate ?? 0, errorAfterApplyRate: f.errorAfterApplyRate ?? 0, rateLimitRate: f.rateLimitRate ?? 0 }, fault: 'forge', detail, phase: 'start' })
        out.push({ atMs: f.atMs + f.durationMs, kind: 'forge-faults', faults: { errorRate: 0, errorAfterApplyRate: 0, rateLimitRate: 0 }, fault: 'forge', detail, phase: 'end' })
        break
      }
      case 'rate-limit-burst': {
        const detail = `${name}: every request ${f.limit}-rate-limited for ${f.durationMs} ms`
        out.push({ atMs: f.atMs, kind: 'rate-limit-burst', limit: f.limit, durationMs: f.durationMs, fault: 'rate-limit', detail, phase: 'start' })
        out.push({ atMs: f.atMs + f.durationMs, kind: 'rate-limit-burst', limit: f.limit, durationMs: 0, fault: 'rate-limit', detail, phase: 'end' })
        break
      }
      case 'partition': {
        const groups = halves(peers)
        const detail = `${name}: ${range(groups[0])} | ${range(groups[1])}`
        out.push({ atMs: f.atMs, kind: 'partition', groups, fault: 'partition', detail, phase: 'start' })
        out.push({ atMs: f.atMs + f.durationMs, kind: 'partition', groups, fault: 'partition', detail, phase: 'end' })
        break
      }
      default: break
    }
  })
  // Stable: by time, an end before a start at the same instant.
  return out.map((a, i) => ({ a, i })).sort((x, y) => x.a.atMs - y.a.atMs || (x.a.phase === y.a.phase ? x.i - y.i : x.a.phase === 'end' ? -1 : 1)).map((x) => x.a)
}

/** The faults in force for the whole run: the list lag (forge) and each peer's clock skew. */
export function standing (faults: readonly Fault[]): { listLagMs: number | undefined, skew: Map<number, number> } {
  let listLagMs: number | undefined
  const skew = new Map<number, number>()
  for (const f of faults) {
    if (f.kind === 'list-lag') listLagMs = Math.max(listLagMs ?? 0, f.lagMs)
    if (f.kind === 'clock-skew') skew.set(f.peer, (skew.get(f.peer) ?? 0) + f.skewMs)
  }
  return { listLagMs, skew }
}

/** The n of every kill fault: kill the holder of the n-th task to start. */
export function kills (faults: readonly Fault[]): number[] {
  return faults.flatMap((f) => (f.kind === 'kill' ? [f.nthTask ?? 1] : [])).sort((a, b) => a - b)
}
