import { encode, topicName } from '@bzzz/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { directProtocol, sendDirect } from './direct.js'
import { DirectRefusedError, MeshAbortError, MeshNotStartedError, NodeIdMismatchError } from './errors.js'
import { ping, sleep } from './helpers.test.util.js'
import { createMesh, type InvalidMessageEvent, type Mesh, type MessageMeta } from './index.js'

const MESH = 'directtest'

describe('Mesh.send: one message straight to one peer', () => {
  let a: Mesh, b: Mesh, c: Mesh
  const got: Array<{ seq: number | undefined, meta: MessageMeta }> = []
  const invalid: InvalidMessageEvent[] = []
  let release: (() => void) | undefined

  beforeAll(async () => {
    const made = await Promise.all([0, 1, 2].map(async () => await createMesh({ transport: 'memory', meshName: MESH, targetConnections: 1, directTopics: ['presence_ping', 'capabilities'] })))
    a = made[0]!
    b = made[1]!
    c = made[2]!
    await Promise.all(made.map(async (m) => { await m.start() }))
    b.subscribe('presence_ping', async (msg, meta) => {
      got.push({ seq: msg.seq, meta })
      // The handler holds the sender until the test lets it go.
      if (msg.seq === 2) await new Promise<void>((resolve) => { release = resolve })
    })
    b.addEventListener('message:invalid', (evt) => { invalid.push(evt.detail) })
    c.subscribe('presence_ping', () => {})
    await a.dial(b.getMultiaddrs()[0]!)
  })
  afterAll(async () => { await Promise.all([a, b, c].map(async (m) => { await m.stop() })) })

  it('delivers to the peer\'s handlers of the topic, marked direct, with the sender as signer', async () => {
    await a.send(b.peerId, 'presence_ping', ping(a, 1))
    expect(got.map((g) => g.seq)).toEqual([1])
    expect(got[0]!.meta.direct).toBe(true)
    expect(got[0]!.meta.from.toString()).toBe(a.peerId.toString())
    expect(got[0]!.meta.topic).toBe('presence_ping')
  })

  it('resolves only once the handlers are done', async () => {
    let done = false
    const sending = a.send(b.peerId.toString(), 'presence_ping', ping(a, 2)).then(() => { done = true })
    while (release === undefined) await sleep(5)
    await sleep(50)
    expect(done).toBe(false)
    release()
    await sending
    expect(done).toBe(true)
  })

  it('dials a peer it is not connected to once it knows its addresses', async () => {
    expect(a.getPeers().map(String)).not.toContain(c.peerId.toString())
    await expect(a.send(c.peerId, 'presence_ping', ping(a, 3), { signal: AbortSignal.timeout(5000) })).rejects.toThrow()
    await a.addAddresses(c.peerId, [...c.getMultiaddrs().map(String), 'not an address', `/memory/x/p2p/${b.peerId.toString()}`])
    await a.send(c.peerId, 'presence_ping', ping(a, 4))
    expect(a.getPeers().map(String)).toContain(c.peerId.toString())
    // Only c's own addresses were kept: not the one naming b, not the one that does not parse.
    const kept = (await a.libp2p.peerStore.get(c.peerId)).addresses.map((x) => x.multiaddr.toString())
    expect(kept.length).toBeGreaterThan(0)
    expect(kept.every((x) => !x.includes(b.peerId.toString()) && !x.includes('not an address'))).toBe(true)
  })

  it('is refused for a topic the peer does not take directly (default: task announcements only)', async () => {
    const err = await a.send(b.peerId, 'task_claim', { type: 'task_claim', task_id: '#1', node_id: a.peerId.toString(), timestamp: new Date().toISOString() }).catch((e: unknown) => e)
    expect((err as DirectRefusedError).reason).toBe('not-accepted')
    const plain = await createMesh({ transport: 'memory', meshName: MESH })
    await plain.start()
    try {
      plain.subscribe('presence_ping', () => {})
      await a.addAddresses(plain.peerId, plain.getMultiaddrs().map(String))
      const refused = await a.send(plain.peerId, 'presence_ping', ping(a, 10)).catch((e: unknown) => e)
      expect((refused as DirectRefusedError).reason).toBe('not-accepted')
    } finally {
      await plain.stop()
    }
  })

  it('is refused for a topic the peer does not subscribe to', async () => {
    const err = await a.send(b.peerId, 'capabilities', {
      type: 'capabilities', node_id: a.peerId.toString(), cpu: 1, gpu: 0, models: [], installed: [], status: 'idle', timestamp: new Date().toISOString()
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DirectRefusedError)
    expect((err as DirectRefusedError).reason).toBe('not-subscribed')
    expect((err as DirectRefusedError).peer).toBe(b.peerId.toString())
  })

  it('is refused when the message names another node than the connection\'s peer', async () => {
    const forged = encode(ping(b, 5))
    const err = await sendDirect(a.libp2p, b.peerId, directProtocol(MESH), topicName(MESH, 'presence_ping'), forged).catch((e: unknown) => e)
    expect((err as DirectRefusedError).reason).toBe('signer-mismatch')
    expect(invalid.map((e) => e.reason)).toContain('signer-mismatch')
    expect(got.map((g) => g.seq)).not.toContain(5)
  })

  it('checks what it sends like publish, and needs a started mesh', async () => {
    await expect(a.send(b.peerId, 'presence_ping', ping(b, 6))).rejects.toBeInstanceOf(NodeIdMismatchError)
    await expect(a.send(a.peerId, 'presence_ping', ping(a, 7))).rejects.toThrow(/this peer/)
    const aborted = AbortSignal.abort(new Error('stop'))
    await expect(a.send(b.peerId, 'presence_ping', ping(a, 8), { signal: aborted })).rejects.toBeInstanceOf(MeshAbortError)
    const idle = await createMesh({ transport: 'memory', meshName: MESH })
    await expect(idle.send(b.peerId, 'presence_ping', ping(idle, 9))).rejects.toBeInstanceOf(MeshNotStartedError)
  })
})
