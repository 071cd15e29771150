import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ping, sleep, waitFor } from './helpers.test.util.js'
import { createMesh, type Mesh, type MeshInit } from './index.js'

// Real TCP on 127.0.0.1; mDNS stays off (the default).
const LOCAL = ['/ip4/127.0.0.1/tcp/0']
const running = new Set<Mesh>()
const dirs: string[] = []
afterAll(async () => {
  await Promise.all([...running].map(async (m) => { await m.stop() }))
  await Promise.all(dirs.map(async (d) => { await rm(d, { recursive: true, force: true }) }))
})

async function start (init: MeshInit): Promise<Mesh> {
  const m = await createMesh({ meshName: 'tcptest', listen: LOCAL, ...init })
  await m.start({ signal: AbortSignal.timeout(20_000) })
  running.add(m)
  return m
}
async function stop (m: Mesh): Promise<void> {
  running.delete(m)
  await m.stop()
}
const connected = (a: Mesh, b: Mesh): boolean => a.getPeers().some((p) => p.equals(b.peerId))

describe('TCP on 127.0.0.1', () => {
  it('a restarted peer keeps its ID (key file, mode 0600)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bzzz-mesh-tcp-'))
    dirs.push(dir)
    const identityPath = join(dir, 'identity.key')
    const first = await start({ identityPath })
    const id = first.peerId.toString()
    expect(first.getMultiaddrs()[0]?.toString()).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${id}$`))
    await stop(first)
    expect((await stat(identityPath)).mode & 0o777).toBe(0o600)
    const second = await start({ identityPath })
    expect(second.peerId.toString()).toBe(id)
    expect(second.privateKey.equals(first.privateKey)).toBe(true)
    await stop(second)
  })

  it('peers reconnect after their bootstrap peer restarts, and exchange messages again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bzzz-mesh-tcp-'))
    dirs.push(dir)
    const identityPath = join(dir, 'bootstrap.key')
    let hub = await start({ identityPath })
    const hubAddr = hub.getMultiaddrs()[0]!.toString()
    const reconnect = { initialDelayMs: 200, maxDelayMs: 1000 }
    const peers = [await start({ bootstrap: [hubAddr], reconnect }), await start({ bootstrap: [hubAddr], reconnect })]
    const joins: string[] = []
    const leaves: string[] = []
    peers[0]!.addEventListener('peer:join', (e) => { joins.push(e.detail.toString()) })
    peers[0]!.addEventListener('peer:leave', (e) => { leaves.push(e.detail.toString()) })
    await waitFor('both peers on the bootstrap peer', () => peers.every((p) => connected(p, hub)))

    await stop(hub)
    await waitFor('both peers to notice', () => peers.every((p) => !connected(p, hub)))
    expect(leaves).toContain(hub.peerId.toString())
    await sleep(2500) // away long enough for several failed redials

    // Same key, same port: it comes back where the bootstrap list says it is.
    hub = await start({ identityPath, listen: [hubAddr.replace(/\/p2p\/.*$/, '')] })
    expect(hub.getMultiaddrs()[0]!.toString()).toBe(hubAddr)
    await waitFor('both peers back on the bootstrap peer', () => peers.every((p) => connected(p, hub)), 30_000)
    expect(joins.filter((j) => j === hub.peerId.toString()).length).toBeGreaterThanOrEqual(1)

    const got: string[] = []
    for (const p of peers) p.subscribe('presence_ping', (msg) => { got.push(`${p.peerId.toString()}<${msg.node_id}`) })
    hub.subscribe('presence_ping', () => {})
    let seq = 0
    await waitFor('a message from the restarted bootstrap peer at both peers', async () => {
      await hub.publish('presence_ping', ping(hub, seq++))
      return peers.every((p) => got.includes(`${p.peerId.toString()}<${hub.peerId.toString()}`))
    }, 20_000)
  }, 90_000)

  it('peers that only know the bootstrap peer find each other through the DHT', async () => {
    const hub = await start({})
    const hubAddr = hub.getMultiaddrs()[0]!.toString()
    const peers = [
      await start({ bootstrap: [hubAddr] }),
      await start({ bootstrap: [hubAddr] }),
      await start({ bootstrap: [hubAddr] })
    ]
    // Nobody dials them to each other: only the DHT can tell them about one another.
    await waitFor('every peer connected to every other', () =>
      peers.every((p) => peers.every((q) => p === q || connected(p, q))), 45_000)
    for (const p of [hub, ...peers]) await stop(p)
  }, 90_000)
})
