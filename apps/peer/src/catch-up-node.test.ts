// The catch-up as a node runs it: a newcomer hears of a peer already up at once, even when the
// presence period is long (a large mesh sends presence once a minute).
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import type { Forge } from '@bzzz/forge'
import type { BzzzNode } from './node.js'
import { FAST_TIMINGS, testForge, testNode, waitFor } from './test-utils.js'

let forge: Forge | undefined
let nodes: BzzzNode[] = []
afterEach(async () => {
  await Promise.all(nodes.map(async (n) => { await n.kill() }))
  nodes = []
  await forge?.close()
  forge = undefined
})

describe('catch-up in a node', () => {
  it('a peer that joins late hears of the peers already up within seconds, not after their presence period', async () => {
    forge = await testForge(['alpha', 'bravo'], [])
    const f = forge
    const timings = { ...FAST_TIMINGS, presenceMs: 60_000, capabilitiesMs: 300_000 }
    const alpha = await testNode({ name: 'alpha', forge: f, executor: false, extra: { timings } })
    nodes.push(alpha)
    await alpha.start()
    // Alpha's start-up capabilities and presence are gone by the time bravo joins.
    await sleep(500)
    const bravo = await testNode({ name: 'bravo', forge: f, executor: false, extra: { timings } })
    nodes.push(bravo)
    await bravo.start()
    await bravo.mesh.dial(alpha.mesh.getMultiaddrs()[0]!)
    const heard = await waitFor('bravo hears of alpha', () => bravo.peers().find((p) => p.nodeId === alpha.nodeId), 5000)
    expect(heard).toMatchObject({ liveness: 'alive', hasFreeSlot: true })
  }, 30_000)
})
