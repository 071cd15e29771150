import { createMesh, type Mesh } from '@bzzz/mesh'
import { formatTimestamp, topicName } from '@bzzz/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSignedLog, type SignedLog } from './log.js'
import { createMemoryStore, type MemoryStore } from './memory-store.js'
import { createLogReplicator, LogCapError, type LogReplicator } from './replication.js'

const MESH = 'members'

interface Node { mesh: Mesh, store: MemoryStore, log: SignedLog, replicator: LogReplicator }

async function node (): Promise<Node> {
  const mesh = await createMesh({ transport: 'memory', meshName: MESH })
  await mesh.start()
  const store = createMemoryStore()
  const log = createSignedLog({ privateKey: mesh.privateKey, store })
  // The default `accept`: the mesh's members.
  const replicator = createLogReplicator({ components: mesh.libp2p, store })
  await replicator.start()
  return { mesh, store, log, replicator }
}

async function waitFor (what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

let keeper: Node, member: Node, stranger: Node

beforeAll(async () => {
  [keeper, member, stranger] = await Promise.all([node(), node(), node()])
  await member.mesh.dial(keeper.mesh.getMultiaddrs()[0]!)
  await stranger.mesh.dial(keeper.mesh.getMultiaddrs()[0]!)
  keeper.mesh.subscribe('presence_ping', () => {})
  member.mesh.subscribe('presence_ping', () => {})
  const topic = topicName(MESH, 'presence_ping')
  await waitFor('the member subscribed, as the keeper sees it', () => keeper.mesh.libp2p.services.pubsub.getSubscribers(topic).some((p) => p.equals(member.mesh.peerId)))
  await waitFor('the keeper subscribed, as the stranger sees it', () => stranger.mesh.libp2p.services.pubsub.getSubscribers(topic).some((p) => p.equals(keeper.mesh.peerId)))
  for (let i = 0; i < 5; i++) {
    await member.log.append('task_progress', { i })
    await stranger.log.append('task_progress', { i })
  }
  // The stranger also relays the member's log.
  stranger.store.appendLog(member.log.author, member.log.range(0, 5))
}, 60_000)

afterAll(async () => {
  for (const n of [keeper, member, stranger]) {
    if (n === undefined) continue
    await n.replicator.stop()
    await n.mesh.stop()
  }
})

describe('whose logs are kept', () => {
  it('by default only the mesh\'s members\' logs, even when a connected non-member offers its own', async () => {
    expect(keeper.replicator.isMember(member.log.author)).toBe(true)
    expect(keeper.replicator.isMember(stranger.log.author)).toBe(false)
    const results = await keeper.replicator.sync(stranger.mesh.peerId)
    expect(results).toEqual([{ author: member.log.author, added: 5, length: 5 }])
    expect(keeper.store.logHeads().map((h) => h.author)).toEqual([member.log.author])
  })

  it('a peer becomes a member once a valid message of it was seen on the mesh\'s topics', async () => {
    await stranger.mesh.publish('presence_ping', {
      type: 'presence_ping', node_id: stranger.mesh.peerId.toString(), status: 'idle', load: { cpu: 1 }, active_tasks: [], timestamp: formatTimestamp(Date.now())
    })
    await waitFor('the stranger seen as a member', () => keeper.replicator.isMember(stranger.log.author))
    const results = await keeper.replicator.sync(stranger.mesh.peerId)
    expect(results).toContainEqual({ author: stranger.log.author, added: 5, length: 5 })
  })

  it('keeps at most maxEntriesPerAuthor entries of one author', async () => {
    const store = createMemoryStore()
    const capped = createLogReplicator({ components: keeper.mesh.libp2p, store, accept: () => true, maxEntriesPerAuthor: 3, protocol: '/bzzz/log-cap-test/1.0.0' })
    const server = createLogReplicator({ components: member.mesh.libp2p, store: member.store, accept: () => true, protocol: '/bzzz/log-cap-test/1.0.0' })
    await server.start()
    try {
      const [res] = await capped.sync(member.mesh.peerId)
      expect(res).toMatchObject({ author: member.log.author, added: 3, length: 3 })
      expect(res!.error).toBeInstanceOf(LogCapError)
      expect(store.logHead(member.log.author).length).toBe(3)
      const [again] = await capped.sync(member.mesh.peerId)
      expect(again).toMatchObject({ added: 0, length: 3 })
    } finally {
      await server.stop()
    }
  })
})
