// A peer that joins late hears the capabilities (and so the addresses) of the peers up before
// it at once, not a capabilities period later: a watcher hands each new task straight to the
// peer that ranks first, by the addresses in its capabilities.
import { describe, expect, it } from 'vitest'
import { FAST_TIMINGS, testMesh, waitFor } from './test-utils.js'

const mesh = testMesh()

describe('capabilities for a newcomer', () => {
  it('a peer up before it sends its capabilities again when a new peer appears', async () => {
    const f = await mesh.forge(['alpha', 'bravo', 'charlie'], [])
    // A capabilities period far longer than the test: only the catch-up can send them again.
    const timings = { ...FAST_TIMINGS, capabilitiesMs: 600_000 }
    const [alpha, bravo, charlie] = await Promise.all(['alpha', 'bravo', 'charlie'].map(async (name) => await mesh.node({ name, forge: f, executor: false, extra: { timings } })))
    await alpha!.start()
    await bravo!.start()
    await bravo!.mesh.dial(alpha!.mesh.getMultiaddrs()[0]!)
    await waitFor('bravo has alpha\'s capabilities', () => bravo!.peers().some((p) => p.nodeId === alpha!.nodeId && p.capabilities !== undefined), 10_000)
    // Well after alpha's capabilities went out, charlie joins, connected to bravo only.
    // (past gossip's replay window for a new neighbour, a few heartbeats)
    await new Promise((resolve) => setTimeout(resolve, 2500))
    const joinedAt = Date.now()
    await charlie!.start()
    await charlie!.mesh.dial(bravo!.mesh.getMultiaddrs()[0]!)
    const heard = await waitFor('charlie has alpha\'s capabilities', () => charlie!.peers().find((p) => p.nodeId === alpha!.nodeId && p.capabilities !== undefined), 10_000)
    expect(heard.capabilities?.addrs).toEqual(alpha!.mesh.getMultiaddrs().map(String))
    // Sent again for charlie (not the first ones, replayed by gossip to a new neighbour).
    expect(Date.parse(heard.capabilities!.timestamp)).toBeGreaterThanOrEqual(joinedAt - 1000)
  }, 40_000)
})
