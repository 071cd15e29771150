import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RateLimiter } from './ratelimit.js'
import type { RateLimitConfig } from './ratelimit.js'

const config: Partial<RateLimitConfig> = {
  primaryLimit: 40, primaryWindowMs: 600_000, concurrent: 3, pointsPerMinute: 30,
  readPoints: 1, writePoints: 5, contentPerMinute: 4, contentPerHour: 9
}

type Step = { dt: number, who: 'a' | 'b', method: 'GET' | 'POST', content: boolean, finish: boolean, refund: boolean }
const step: fc.Arbitrary<Step> = fc.record({
  dt: fc.integer({ min: 0, max: 20_000 }),
  who: fc.constantFrom('a' as const, 'b' as const),
  method: fc.constantFrom('GET' as const, 'POST' as const),
  content: fc.boolean(),
  finish: fc.boolean(),
  refund: fc.boolean()
})

describe('rate limiter properties', () => {
  it('never admits beyond any limit, and every refusal names a time to wait', () => {
    fc.assert(fc.property(fc.array(step, { maxLength: 150 }), (steps) => {
      let t = 1_000_000
      const limiter = new RateLimiter(config, () => t)
      const admitted: Array<{ at: number, who: string, cost: number, content: boolean }> = []
      const open = new Map<string, Array<(refund: boolean) => void>>()
      for (const s of steps) {
        t += s.dt
        const content = s.method === 'POST' && s.content
        const a = limiter.admit(s.who, s.method, content)
        if (a.ok) {
          admitted.push({ at: t, who: s.who, cost: s.method === 'GET' ? 1 : 5, content })
          const list = open.get(s.who) ?? []
          list.push(a.release)
          open.set(s.who, list)
          expect(list.length).toBeLessThanOrEqual(3)
          expect(a.primary.remaining).toBeGreaterThanOrEqual(0)
        } else if (a.kind === 'secondary') {
          expect(a.retryAfterS).toBeGreaterThanOrEqual(1)
          expect(a.primary.remaining).toBeGreaterThan(0)
        } else {
          expect(a.primary.remaining).toBe(0)
          expect(a.primary.reset * 1000).toBeGreaterThan(t)
        }
        if (s.finish) open.get(s.who)?.shift()?.(false)
      }
      for (const who of ['a', 'b']) {
        const mine = admitted.filter((x) => x.who === who)
        for (const x of mine) {
          const minute = mine.filter((y) => y.at > x.at - 60_000 && y.at <= x.at)
          expect(minute.reduce((s, y) => s + y.cost, 0)).toBeLessThanOrEqual(30)
          expect(minute.filter((y) => y.content).length).toBeLessThanOrEqual(4)
          expect(mine.filter((y) => y.content && y.at > x.at - 3_600_000 && y.at <= x.at).length).toBeLessThanOrEqual(9)
        }
      }
    }), { numRuns: 200 })
  })

  it('a refund (304) gives the primary charge back; the window resets after its length', () => {
    let t = 0
    const limiter = new RateLimiter({ primaryLimit: 2, primaryWindowMs: 1000 }, () => t)
    const a = limiter.admit('x', 'GET', false)
    if (!a.ok) throw new Error('admitted expected')
    a.release(true)
    expect(limiter.primary('x').used).toBe(0)
    const b = limiter.admit('x', 'GET', false)
    const c = limiter.admit('x', 'GET', false)
    expect(b.ok && c.ok).toBe(true)
    expect(limiter.admit('x', 'GET', false)).toMatchObject({ ok: false, kind: 'primary' })
    t = 1000
    expect(limiter.admit('x', 'GET', false).ok).toBe(true)
  })
})
