import { generateKeyPair } from '@libp2p/crypto/keys'
import { TypedEventEmitter, type Libp2p, type PeerId } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { waitFor } from './helpers.test.util.js'
import { ConnectionMaintainer } from './maintainer.js'

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** Just enough of a libp2p node for the maintainer: every dial fails. */
class UnreachableNode extends TypedEventEmitter<Record<string, CustomEvent>> {
  dials = 0
  constructor (readonly peerId: PeerId) { super() }
  getPeers (): PeerId[] { return [] }
  async dial (): Promise<never> {
    this.dials++
    throw new Error('unreachable')
  }
}

describe('ConnectionMaintainer', () => {
  it('keeps its backoff table bounded by the peers it still knows', async () => {
    const node = new UnreachableNode(await newPeerId())
    const maintainer = new ConnectionMaintainer({
      libp2p: node as unknown as Libp2p,
      bootstrap: [],
      targetConnections: 50,
      backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000, factor: 1, jitter: 0 },
      intervalMs: 60_000,
      dialTimeoutMs: 1000,
      log: logger('test'),
      maxKnownPeers: 3
    })
    maintainer.start()
    try {
      for (let i = 0; i < 20; i++) {
        node.safeDispatchEvent('peer:discovery', { detail: { id: await newPeerId(), multiaddrs: [] } })
        maintainer.tick()
      }
      await waitFor('every dial to fail', () => node.dials >= 20)
      await new Promise((resolve) => setTimeout(resolve, 50))
      maintainer.tick()
      // Each failed peer got a backoff entry; those forgotten (evicted from the 3 known) must not keep one.
      expect(maintainer.backoffEntries).toBeLessThanOrEqual(3)
    } finally {
      maintainer.stop()
    }
  })
})
