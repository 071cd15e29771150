import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { distribution, percentile } from './percentile.js'

describe('percentile', () => {
  it('is a member of the sample, monotonic in p, between min and max', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (xs, a, b) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a]
      const pl = percentile(xs, lo)!
      const ph = percentile(xs, hi)!
      expect(xs).toContain(pl)
      expect(pl).toBeLessThanOrEqual(ph)
      expect(ph).toBeLessThanOrEqual(Math.max(...xs))
      expect(pl).toBeGreaterThanOrEqual(Math.min(...xs))
    }))
  })

  it('uses nearest rank: p50 of 1..100 is 50, p99 is 99', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i)
    expect(percentile(xs, 50)).toBe(50)
    expect(percentile(xs, 99)).toBe(99)
    expect(percentile(xs, 100)).toBe(100)
    expect(percentile([], 50)).toBeUndefined()
  })

  it('distribution of nothing is all null', () => {
    expect(distribution([])).toEqual({ p50: null, p99: null, max: null, count: 0 })
  })
})
