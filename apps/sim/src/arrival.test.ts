import { setTimeout as sleep } from 'node:timers/promises'
import { createForge } from '@bzzz/forge'
import { describe, expect, it } from 'vitest'
import { arrivalAt, forkAhead, labelAtRate } from './arrival.js'
import { forgeSeed, peerLogin, peerToken, REPO, REPO_NAME } from './world.js'

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

describe('forkAhead', () => {
  it("makes every peer's fork, as that peer, and waits until each is ready", async () => {
    const forge = await createForge({ port: 0, seed: forgeSeed(3, 1, 'fa'), forkDelayMs: 50 })
    try {
      const ready = (): boolean => [0, 1, 2].every((i) => forge.state.repo(peerLogin(i), REPO_NAME).gitReady)
      await forkAhead({ url: forge.url, repo: REPO, tokens: [0, 1, 2].map((i) => peerToken(i, 'fa')), ready, signal: AbortSignal.timeout(20_000) })
      expect(ready()).toBe(true)
      expect(forge.state.repo(peerLogin(2), REPO_NAME).parent).toMatch(/sim-org\/tasks/i)
      await expect(forkAhead({ url: forge.url, repo: REPO, tokens: ['ghs_nobody'], ready, signal: AbortSignal.timeout(5000) })).rejects.toThrow(/HTTP 401/)
    } finally {
      await forge.close()
    }
  })
})
