// The warm-up: a node takes part in elections and claims only once it can have heard every peer
// already up, whatever warm-up it is given.
import { describe, expect, it } from 'vitest'
import { warmUpOf } from './node.js'
import { FAST_TIMINGS, REPO, testMesh, waitFor } from './test-utils.js'

const mesh = testMesh()

describe('warm-up', () => {
  it('is the configured one, two presence periods by default, never under one and a half', () => {
    expect(warmUpOf({})).toBe(4000)
    expect(warmUpOf({ presenceMs: 60_000 })).toBe(120_000)
    expect(warmUpOf({ presenceMs: 1000, warmUpMs: 5000 })).toBe(5000)
    // A late peer hears of the others at their next presence: warm sooner, it would rank itself
    // first on tasks that a peer it has not heard of yet ranks first on.
    expect(warmUpOf({ presenceMs: 60_000, warmUpMs: 10_000 })).toBe(90_000)
  })

  it('a node given a warm-up shorter than its presence period waits one and a half periods before it watches', async () => {
    const forge = await mesh.forge(['alpha'], [])
    const timings = { ...FAST_TIMINGS, presenceMs: 2000, warmUpMs: 100 }
    const node = await mesh.node({ name: 'alpha', forge, executor: false, extra: { timings } })
    const started = Date.now()
    await node.start()
    await new Promise((resolve) => setTimeout(resolve, 2000))
    expect(node.status().watching).toEqual([])
    await waitFor('alpha watches', () => node!.status().watching.length > 0 || undefined, 5000)
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000)
    expect(node.status().watching).toEqual([REPO])
  }, 30_000)
})
