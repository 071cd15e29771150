import { describe, expect, it } from 'vitest'
import { REPO, testMesh, waitFor } from './test-utils.js'

const names = ['alpha', 'bravo', 'charlie', 'delta']
const mesh = testMesh()

describe('the hand-off of a new task', () => {
  it('the peer that ranks first has its claim on the issue before the rest of the mesh hears of the task', async () => {
    const f = await mesh.forge(names, [])
    // One connection a peer is all the mesh keeps by itself: the watcher's others are its own.
    const nodes = await Promise.all(names.map(async (name) => await mesh.node({ name, forge: f, extra: { mesh: { transport: 'memory', meshName: 'test', targetConnections: 1 } } })))
    for (const n of nodes) await n.start()
    // A line, not all to all: the watcher reaches the others by the addresses they announce.
    for (let i = 1; i < nodes.length; i++) await nodes[i]!.mesh.dial(nodes[i - 1]!.mesh.getMultiaddrs()[0]!)
    // Every node sees every other one alive (and its addresses), so all rank alike.
    await waitFor('every node sees all peers alive', () => nodes.every((n) => n.peers().filter((p) => p.liveness === 'alive' && p.nodeId !== n.nodeId).length === names.length - 1), 30_000)
    await waitFor('a watcher', () => nodes.some((n) => n.status().watching.length > 0), 30_000)

    const claimPostedAt = new Map<number, number>()
    f.events.on('request', (r) => {
      const m = /^\/repos\/acme\/tasks\/issues\/(\d+)\/comments$/.exec(r.path)
      if (r.method === 'POST' && m !== null && r.status === 201 && !claimPostedAt.has(Number(m[1]))) claimPostedAt.set(Number(m[1]), Date.now())
    })
    const heardAt = new Map<string, Map<string, number>>()
    for (const n of nodes) {
      n.on('task:announced', (e) => {
        const byNode = heardAt.get(e.key) ?? new Map<string, number>()
        if (!byNode.has(n.nodeId)) byNode.set(n.nodeId, Date.now())
        heardAt.set(e.key, byNode)
      })
    }
    const claimers = new Map<string, string>()
    for (const n of nodes) n.on('task:claimed', (e) => { if (e.self && !claimers.has(e.key)) claimers.set(e.key, n.nodeId) })

    // One at a time: within one poll the watcher's view of the peers' free slots does not change.
    const issues: number[] = []
    for (let i = 0; i < 4; i++) {
      const issue = f.createIssue('acme', 'tasks', { title: `Task ${i + 1}`, body: `Add file ${i + 1}`, author: 'maintainer', labels: ['bzzz'] }).number
      issues.push(issue)
      const key = `${REPO}#${issue}`
      await waitFor(`${key} claimed and heard everywhere`, () => claimers.has(key) && heardAt.get(key)?.size === names.length, 60_000)
      // Done everywhere, and its holder's free slot told to all (presence every 300 ms).
      await waitFor(`${key} done in every view`, () => nodes.every((n) => n.tasks().some((t) => t.key === key && t.status === 'done')), 60_000)
      await new Promise((resolve) => setTimeout(resolve, 700))
    }

    const watching = nodes.find((n) => n.status().watching.length > 0)!
    const watcher = watching.nodeId
    // The watcher connected to every live peer ahead of its hand-offs.
    expect(watching.mesh.getPeers().map(String).sort()).toEqual(nodes.filter((n) => n !== watching).map((n) => n.nodeId).sort())
    for (const issue of issues) {
      const key = `${REPO}#${issue}`
      const claimer = claimers.get(key)!
      const posted = claimPostedAt.get(issue)
      expect(posted, `${key}: a claim was posted`).toBeDefined()
      const others = [...heardAt.get(key)!].filter(([id]) => id !== watcher && id !== claimer)
      for (const [id, at] of others) expect(at, `${key}: ${id} heard of it after ${claimer}'s claim was posted`).toBeGreaterThanOrEqual(posted!)
    }
  }, 120_000)
})
