import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { arrivalAt, labelAtRate } from './arrival.js'

describe('labelAtRate', () => {
  it('labels the issues in order, one every 1/rate seconds from the start time', async () => {
    const at: Array<{ issue: number, t: number }> = []
    const t0 = performance.now()
    await labelAtRate({
      issues: [3, 1, 2], perSecond: 20, startAt: t0 + 30, now: () => performance.now(),
      label: (issue) => { at.push({ issue, t: performance.now() - t0 }) }, signal: AbortSignal.timeout(10_000)
    })
    expect(at.map((a) => a.issue)).toEqual([3, 1, 2])
    expect(at[0]!.t).toBeGreaterThanOrEqual(28) // timers may fire up to a millisecond early
    expect(at[2]!.t).toBeGreaterThanOrEqual(30 + arrivalAt(2, 20) - 2)
    expect(arrivalAt(10, 2)).toBe(5000)
  })

  it('a slow label delays the next ones but not the schedule: late ones go at once', async () => {
    const at: number[] = []
    const t0 = performance.now()
    await labelAtRate({
      issues: [1, 2, 3], perSecond: 50, now: () => performance.now(), signal: AbortSignal.timeout(10_000),
      label: async (issue) => { at.push(performance.now() - t0); if (issue === 1) await sleep(100) }
    })
    expect(at[1]!).toBeGreaterThanOrEqual(99)
    expect(at[2]! - at[1]!).toBeLessThan(15)
  })

  it('stops on a failed label, and when aborted', async () => {
    await expect(labelAtRate({
      issues: [1, 2], perSecond: 100, now: () => performance.now(), signal: AbortSignal.timeout(10_000),
      label: (issue) => { if (issue === 1) throw new Error('no such issue') }
    })).rejects.toThrow(/no such issue/)
    const ac = new AbortController()
    const labelled: number[] = []
    await expect(labelAtRate({
      issues: [1, 2, 3], perSecond: 1, now: () => performance.now(), signal: ac.signal,
      label: (issue) => { labelled.push(issue); ac.abort() }
    })).rejects.toThrow()
    expect(labelled).toEqual([1])
  })
})
