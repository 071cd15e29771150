import { InvalidTimestampError, SchemaError, topicName, type Message } from '@bzzz/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidMeshOptionError, MeshAbortError, MeshNotStartedError, NodeIdMismatchError } from './errors.js'
import { meshPeers, ping, sleep, waitFor } from './helpers.test.util.js'
import { createMesh, type InvalidMessageEvent, type Mesh } from './index.js'
import { generateNetworkKey } from './network-key.js'

const PEERS = 20
const MESH = 'memtest'
const PING = topicName(MESH, 'presence_ping')

describe('an in-process mesh of 20 peers', () => {
  const meshes: Mesh[] = []
  /** Per peer: the messages its handler saw, as `signer#seq`. */
  const seen = new Map<string, Set<string>>()
  /** Per peer: the rejections it made. */
  const invalid = new Map<string, InvalidMessageEvent[]>()
  /** Messages that reached the `message` event: must equal what handlers saw. */
  const events = new Map<string, Set<string>>()
  /** Deliveries whose signer was not the node the message names: must stay empty. */
  const wrongSigner: string[] = []

  beforeAll(async () => {
    for (let i = 0; i < PEERS; i++) meshes.push(await createMesh({ transport: 'memory', meshName: MESH }))
    await Promise.all(meshes.map(async (m) => { await m.start() }))
    for (const m of meshes) {
      const id = m.peerId.toString()
      seen.set(id, new Set())
      invalid.set(id, [])
      events.set(id, new Set())
      m.subscribe('presence_ping', (msg, meta) => {
        // Recorded, not asserted here: the mesh catches (and only logs) what a handler throws.
        if (meta.from.toString() !== msg.node_id) wrongSigner.push(`${meta.from.toString()} wrote ${msg.node_id}`)
        seen.get(id)?.add(`${msg.node_id}#${msg.seq ?? ''}`)
      })
      m.addEventListener('message', (evt) => {
        const msg = evt.detail.message as Message & { seq?: number }
        events.get(id)?.add(`${evt.detail.from.toString()}#${msg.seq ?? ''}`)
      })
      m.addEventListener('message:invalid', (evt) => { invalid.get(id)?.push(evt.detail) })
    }
    // Sparse random wiring: each peer dials two random earlier peers (connected by construction).
    for (let i = 1; i < PEERS; i++) {
      const targets = new Set([Math.floor(Math.random() * i), Math.floor(Math.random() * i)])
      for (const t of targets) await meshes[i]!.dial(meshes[t]!.getMultiaddrs()[0]!)
    }
    await waitFor('every peer in a topic mesh', () => meshes.every((m) => meshPeers(m, PING).length > 0), 30_000)
  })

  afterAll(async () => {
    await Promise.all(meshes.map(async (m) => { await m.stop() }))
  })

  it('delivers every message to every peer', async () => {
    for (const [i, m] of meshes.entries()) await m.publish('presence_ping', ping(m, i))
    const want = (self: Mesh): string[] => meshes.flatMap((m, i) => m === self ? [] : [`${m.peerId.toString()}#${i}`])
    await waitFor('all messages everywhere', () => meshes.every((m) => want(m).every((k) => seen.get(m.peerId.toString())?.has(k))), 30_000)
    for (const m of meshes) {
      const mine = seen.get(m.peerId.toString())!
      expect(mine.size).toBe(PEERS - 1)
      expect(mine.has(`${m.peerId.toString()}#${meshes.indexOf(m)}`)).toBe(false) // not its own
      expect(events.get(m.peerId.toString())).toEqual(mine)
    }
    expect([...invalid.values()].flat()).toEqual([])
    expect(wrongSigner).toEqual([])
  })

  it('refuses to publish a message naming another node', async () => {
    const [a, b] = meshes as [Mesh, Mesh]
    await expect(a.publish('presence_ping', ping(a, 1, { node_id: b.peerId.toString() }))).rejects.toBeInstanceOf(NodeIdMismatchError)
  })

  it('rejects a forged, an oversized, a schema-invalid and a stale message at the first hop', async () => {
    const evil = meshes[0]!
    const evilId = evil.peerId.toString()
    const raw = async (value: unknown): Promise<void> => {
      await evil.libp2p.services.pubsub.publish(PING, new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value)))
    }
    const victim = meshes[PEERS - 1]!.peerId.toString()
    const before = new Map([...seen].map(([id, s]) => [id, s.size]))

    await raw(ping(evil, 1001, { node_id: victim })) // names another node than its signer
    await raw(JSON.stringify(ping(evil, 1002)).replace('"active_tasks":[]', `"active_tasks":[],"pad":"${'x'.repeat(70 * 1024)}"`)) // over 64 KiB
    await raw({ type: 'presence_ping', node_id: evilId, status: 'idle', timestamp: new Date().toISOString(), seq: 1003 }) // no load
    await raw(ping(evil, 1004, { timestamp: new Date(Date.now() - 3600_000).toISOString() })) // an hour old

    const neighbours = new Set(evil.getPeers().map((p) => p.toString()))
    const reasons = (): Set<string> => new Set([...invalid.values()].flat().map((e) => e.reason))
    await waitFor('the four rejections', () => ['signer-mismatch', 'too-large', 'malformed', 'clock-skew'].every((r) => reasons().has(r)), 15_000)
    await sleep(2000) // several heartbeats: time enough for anything forwarded or gossiped to arrive

    for (const [id, list] of invalid) {
      if (list.length === 0) continue
      // Only direct neighbours of the sender ever saw them: nothing was forwarded.
      expect(neighbours.has(id)).toBe(true)
      for (const e of list) {
        expect(e.propagationSource.toString()).toBe(evilId)
        expect(e.from?.toString()).toBe(evilId)
      }
    }
    // The application never saw any of them, anywhere.
    for (const [id, s] of seen) expect(s.size).toBe(before.get(id))
    for (const s of events.values()) for (const k of s) expect(Number(k.split('#')[1])).toBeLessThan(1000)
    // And they count against the sender at the peers that rejected them.
    for (const m of meshes) {
      if ((invalid.get(m.peerId.toString()) ?? []).length > 0) expect(m.score(evil.peerId)).toBeLessThan(0)
    }
  })
})

describe('a private in-process mesh', () => {
  const meshes: Mesh[] = []
  afterAll(async () => { await Promise.all(meshes.map(async (m) => { await m.stop() })) })

  async function make (init: Parameters<typeof createMesh>[0]): Promise<Mesh> {
    const m = await createMesh({ transport: 'memory', meshName: 'private', ...init })
    meshes.push(m)
    await m.start()
    return m
  }

  it('lets in only peers holding the network key', async () => {
    const key = generateNetworkKey()
    const a = await make({ networkKey: key })
    const b = await make({ networkKey: key })
    const stranger = await make({})
    const otherKey = await make({ networkKey: generateNetworkKey() })

    expect((await b.dial(a.getMultiaddrs()[0]!)).toString()).toBe(a.peerId.toString())
    for (const outsider of [stranger, otherKey]) {
      await expect(outsider.dial(a.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(3000) })).rejects.toThrow()
      await expect(a.dial(outsider.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(3000) })).rejects.toThrow()
    }
    await sleep(200)
    expect(a.getPeers().map(String)).toEqual([b.peerId.toString()])
    expect(stranger.getPeers()).toEqual([])
    expect(otherKey.getPeers()).toEqual([])
  })

  it('refuses a network key that is not a swarm key, without echoing it', async () => {
    const secret = '/key/swarm/psk/1.0.0/\n/base16/\n' + 'ab'.repeat(31) // one byte short
    for (const networkKey of [secret, new TextEncoder().encode(secret), 'hunter2']) {
      const err = await createMesh({ transport: 'memory', networkKey }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(InvalidMeshOptionError)
      expect(err).toMatchObject({ code: 'ERR_INVALID_MESH_OPTION', option: 'networkKey' })
      expect((err as Error).message).not.toContain('abab')
      expect((err as Error).message).not.toContain('hunter2')
    }
  })

  it('lets in only allowlisted peers', async () => {
    const friend = await make({})
    const stranger = await make({})
    const guarded = await make({ allowlist: [friend.peerId.toString()] })
    expect((await friend.dial(guarded.getMultiaddrs()[0]!)).toString()).toBe(guarded.peerId.toString())
    await expect(stranger.dial(guarded.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(3000) })).rejects.toThrow()
    await expect(guarded.dial(stranger.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(3000) })).rejects.toThrow()
    await sleep(200)
    expect(guarded.getPeers().map(String)).toEqual([friend.peerId.toString()])
  })

  it('refuses the peers denyPeer names while it names them (a live partition)', async () => {
    const cut = new Set<string>()
    const a = await make({ denyPeer: (id: string) => cut.has(id) })
    const b = await make({})
    cut.add(b.peerId.toString())
    await expect(b.dial(a.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(3000) })).rejects.toThrow()
    await expect(a.dial(b.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(3000) })).rejects.toThrow()
    cut.clear()
    expect((await b.dial(a.getMultiaddrs()[0]!)).toString()).toBe(a.peerId.toString())
  })
})

describe('the mesh API', () => {
  const meshes: Mesh[] = []
  afterAll(async () => { await Promise.all(meshes.map(async (m) => { await m.stop() })) })

  it('honours abort signals and refuses to work unstarted', async () => {
    const m = await createMesh({ transport: 'memory' })
    meshes.push(m)
    await expect(m.start({ signal: AbortSignal.abort() })).rejects.toThrow()
    expect(m.isStarted()).toBe(false)
    await expect(m.publish('presence_ping', ping(m, 0))).rejects.toBeInstanceOf(MeshNotStartedError)
    await expect(m.dial('/memory/nowhere')).rejects.toBeInstanceOf(MeshNotStartedError)
    await m.start()
    expect(m.isStarted()).toBe(true)
    await expect(m.publish('presence_ping', ping(m, 0), { signal: AbortSignal.abort() })).rejects.toThrow()
    // A message of another topic's type is refused before it is sent.
    await expect(m.publish('task_claim', ping(m, 0) as never)).rejects.toBeInstanceOf(SchemaError)
    await m.stop()
    expect(m.isStarted()).toBe(false)
  })

  it('connects in plaintext when asked (memory only), and still delivers only signed messages', async () => {
    const a = await createMesh({ transport: 'memory', meshName: MESH, encryption: 'plaintext' })
    const b = await createMesh({ transport: 'memory', meshName: MESH, encryption: 'plaintext' })
    meshes.push(a, b)
    const got: string[] = []
    b.subscribe('presence_ping', (msg, meta) => { got.push(`${meta.from.toString()}:${msg.node_id}`) })
    a.subscribe('presence_ping', () => {})
    await a.start()
    await b.start()
    await b.dial(a.getMultiaddrs()[0]!)
    expect(a.libp2p.getConnections(b.peerId)[0]?.encryption).toBe('/plaintext/2.0.0')
    await waitFor('a topic mesh', () => meshPeers(a, PING).length > 0, 10_000)
    await a.publish('presence_ping', ping(a, 7))
    await waitFor('the message', () => got.length > 0, 10_000)
    expect(got).toEqual([`${a.peerId.toString()}:${a.peerId.toString()}`])
    // A noise peer and a plaintext peer share no encrypter: no connection.
    await expect(meshes[0]!.dial(a.getMultiaddrs()[0]!)).rejects.toThrow()
    await expect(createMesh({ transport: 'tcp', encryption: 'plaintext' })).rejects.toBeInstanceOf(InvalidMeshOptionError)
  })

  it('leaves nothing running when a start is aborted while under way', async () => {
    const m = await createMesh({ transport: 'memory' })
    meshes.push(m)
    const controller = new AbortController()
    const starting = m.start({ signal: controller.signal })
    controller.abort() // libp2p is now part-way through its start
    await expect(starting).rejects.toBeInstanceOf(MeshAbortError)
    expect(m.isStarted()).toBe(false)
    expect(m.libp2p.status).toBe('stopped')
    expect(m.getMultiaddrs()).toEqual([])
    // And it can still be started properly afterwards.
    await m.start()
    expect(m.libp2p.status).toBe('started')
    await m.stop()
    expect(m.libp2p.status).toBe('stopped')
  })

  it('serialises overlapping starts and stops', async () => {
    const m = await createMesh({ transport: 'memory' })
    meshes.push(m)
    m.subscribe('presence_ping', () => {})
    // Two starts at once: both resolve to a running mesh (the second does not see a half-started one).
    await Promise.all([m.start(), m.start()])
    expect(m.isStarted()).toBe(true)
    await m.publish('presence_ping', ping(m, 1))
    // A stop while a start is under way wins: nothing is left running.
    await m.stop()
    const starting = m.start()
    const stopping = m.stop()
    await starting.catch(() => {})
    await stopping
    expect(m.isStarted()).toBe(false)
    expect(m.libp2p.status).toBe('stopped')
    // A start right after a stop that is still under way starts the node again.
    await m.start()
    const stopped = m.stop()
    const restarted = m.start()
    await stopped
    await restarted
    expect(m.isStarted()).toBe(true)
    expect(m.libp2p.status).toBe('started')
    await m.stop()
  })

  it('rejects an already-aborted start with MeshAbortError', async () => {
    const m = await createMesh({ transport: 'memory' })
    meshes.push(m)
    await expect(m.start({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(MeshAbortError)
    expect(m.libp2p.status).toBe('stopped')
  })

  it('refuses to publish a message that every peer would reject for its clock skew', async () => {
    const a = await createMesh({ transport: 'memory', meshName: 'skew' })
    const b = await createMesh({ transport: 'memory', meshName: 'skew' })
    meshes.push(a, b)
    a.subscribe('presence_ping', () => {})
    const invalid: string[] = []
    b.addEventListener('message:invalid', (e) => { invalid.push(e.detail.reason) })
    b.subscribe('presence_ping', () => {})
    await a.start()
    await b.start()
    await b.dial(a.getMultiaddrs()[0]!)
    await waitFor('a topic mesh', () => meshPeers(a, topicName('skew', 'presence_ping')).length > 0)
    const stale = ping(a, 1, { timestamp: new Date(Date.now() - 3600_000).toISOString() })
    await expect(a.publish('presence_ping', stale)).rejects.toBeInstanceOf(InvalidTimestampError)
    await sleep(500)
    expect(invalid).toEqual([]) // never sent, so never held against us
    expect(a.score(b.peerId)).toBeGreaterThanOrEqual(0)
    expect(b.score(a.peerId)).toBeGreaterThanOrEqual(0)
  })

  it('stops delivering to a handler once it unsubscribes, and delivers to handlers added before start', async () => {
    const a = await createMesh({ transport: 'memory', meshName: 'api' })
    const b = await createMesh({ transport: 'memory', meshName: 'api' })
    meshes.push(a, b)
    const got: number[] = []
    const unsubscribe = b.subscribe('presence_ping', (msg) => { got.push(msg.seq ?? -1) })
    a.subscribe('presence_ping', () => {})
    await a.start()
    await b.start()
    const joined: string[] = []
    a.addEventListener('peer:join', (e) => { joined.push(e.detail.toString()) })
    await b.dial(a.getMultiaddrs()[0]!)
    await waitFor('a topic mesh', () => meshPeers(a, topicName('api', 'presence_ping')).length > 0)
    expect(joined).toEqual([b.peerId.toString()])
    await a.publish('presence_ping', ping(a, 1))
    await waitFor('the first message', () => got.includes(1))
    unsubscribe()
    await a.publish('presence_ping', ping(a, 2))
    await sleep(1000)
    expect(got).toEqual([1])
  })

  it('can be stopped and started again, still validating and delivering', async () => {
    const a = await createMesh({ transport: 'memory', meshName: 'restart' })
    const b = await createMesh({ transport: 'memory', meshName: 'restart' })
    meshes.push(a, b)
    const got: number[] = []
    b.subscribe('presence_ping', (msg) => { got.push(msg.seq ?? -1) })
    a.subscribe('presence_ping', () => {})
    await a.start()
    await b.start()
    await b.stop()
    await b.start()
    await b.dial(a.getMultiaddrs()[0]!)
    await waitFor('a topic mesh', () => meshPeers(a, topicName('restart', 'presence_ping')).length > 0)
    await a.publish('presence_ping', ping(a, 7))
    await waitFor('the message after a restart', () => got.includes(7))
  })
})
