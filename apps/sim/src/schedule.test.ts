import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { halves, kills, schedule, standing } from './schedule.js'

describe('schedule', () => {
  it('every window fault starts, then ends durationMs later; actions come in time order', () => {
    const window = fc.record({ atMs: fc.nat(10_000), durationMs: fc.nat(10_000) })
    const fault = fc.oneof(
      window.map((w) => ({ kind: 'forge' as const, ...w, errorRate: 0.1 })),
      window.map((w) => ({ kind: 'partition' as const, ...w })),
      window.map((w) => ({ kind: 'rate-limit-burst' as const, ...w, limit: 'secondary' as const })),
      fc.constant({ kind: 'list-lag' as const, lagMs: 3000 })
    )
    fc.assert(fc.property(fc.array(fault, { maxLength: 8 }), fc.integer({ min: 1, max: 20 }), (faults, peers) => {
      const actions = schedule(faults, peers)
      expect(actions).toHaveLength(faults.filter((f) => f.kind !== 'list-lag').length * 2)
      for (let i = 1; i < actions.length; i++) expect(actions[i]!.atMs).toBeGreaterThanOrEqual(actions[i - 1]!.atMs)
      for (const start of actions.filter((a) => a.phase === 'start')) {
        const end = actions.find((a) => a.phase === 'end' && a.detail === start.detail)
        const f = faults[Number(/#(\d+)/.exec(start.detail)![1])]! as { atMs: number, durationMs: number }
        expect(end!.atMs - start.atMs).toBe(f.durationMs)
      }
    }))
  })

  it('the forge window switches its faults on, then off', () => {
    const [on, off] = schedule([{ kind: 'forge', atMs: 100, durationMs: 50, errorRate: 0.2, errorAfterApplyRate: 0.1 }], 3)
    expect(on).toMatchObject({ atMs: 100, faults: { errorRate: 0.2, errorAfterApplyRate: 0.1, rateLimitRate: 0 } })
    expect(off).toMatchObject({ atMs: 150, faults: { errorRate: 0, errorAfterApplyRate: 0, rateLimitRate: 0 } })
  })

  it('halves cover every peer once', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 200 }), (n) => {
      const [a, b] = halves(n)
      expect([...a, ...b]).toEqual(Array.from({ length: n }, (_, i) => i))
      expect(Math.abs(a.length - b.length)).toBeLessThanOrEqual(1)
    }))
  })

  it('standing faults and kills', () => {
    const faults = [
      { kind: 'list-lag' as const, lagMs: 4000 },
      { kind: 'clock-skew' as const, peer: 1, skewMs: 300_000 },
      { kind: 'kill' as const, nthTask: 3 },
      { kind: 'kill' as const }
    ]
    expect(standing(faults)).toEqual({ listLagMs: 4000, skew: new Map([[1, 300_000]]) })
    expect(kills(faults)).toEqual([1, 3])
  })
})
