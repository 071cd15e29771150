import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { firstDifference } from './fork-search.js'

describe('firstDifference', () => {
  it('finds where two chains part, in at most ceil(log2(hi + 1)) comparisons', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 1_000_000 }).chain((hi) => fc.tuple(fc.constant(hi), fc.integer({ min: 0, max: hi }))), async ([hi, parts]) => {
      const asked: number[] = []
      const found = await firstDifference(hi, async (seq) => { asked.push(seq); return seq < parts })
      expect(found).toBe(parts)
      expect(asked.length).toBeLessThanOrEqual(Math.ceil(Math.log2(hi + 1)))
      expect(asked.every((s) => s >= 0 && s <= hi)).toBe(true)
    }), { numRuns: 300 })
  })
})
