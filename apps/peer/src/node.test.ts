import { describe, expect, it } from 'vitest'
import type { NodeEvents } from './events.js'
import { REPO, connectAll, pullRequests, testMesh, waitFor } from './test-utils.js'

const names = ['alpha', 'bravo', 'charlie']
const mesh = testMesh()

describe('createNode', () => {
  it('three nodes turn each labelled issue into exactly one pull request', async () => {
    const f = await mesh.forge(names, [
      { title: 'Write a greeting', body: 'Add greeting.md', author: 'maintainer', labels: ['bzzz'] },
      { title: 'Not for agents', body: 'no label', author: 'maintainer' },
      { title: 'Add a changelog', body: 'Add CHANGELOG.md', author: 'maintainer', labels: ['bzzz'] }
    ])
    const nodes = await Promise.all(names.map(async (name) => await mesh.node({ name, forge: f })))
    const events: Array<[keyof NodeEvents, unknown]> = []
    for (const ev of ['task:announced', 'task:claimed', 'task:running', 'task:result'] as const) {
      nodes[0]!.on(ev, (d: unknown) => { events.push([ev, d]) })
    }
    for (const n of nodes) await n.start()
    await connectAll(nodes)

    const done = await waitFor('both tasks done in every view', () => {
      const views = nodes.map((n) => n.tasks().filter((t) => t.status === 'done'))
      return views.every((v) => v.length === 2) ? views[0] : undefined
    }, 60_000)
    expect(done.map((t) => t.key).sort()).toEqual([`${REPO}#1`, `${REPO}#3`])
    const prs = await pullRequests(f)
    expect(prs).toHaveLength(2)
    expect(prs.map((p) => p.body.includes('Closes #1') || p.body.includes('Closes #3'))).toEqual([true, true])
    // One watcher broadcast each task; node alpha saw the whole life of each.
    for (const key of [`${REPO}#1`, `${REPO}#3`]) {
      const kinds = events.filter(([, d]) => (d as { key: string }).key === key).map(([e]) => e)
      expect(kinds).toContain('task:announced')
      expect(kinds).toContain('task:claimed')
      expect(kinds).toContain('task:result')
    }
    const status = nodes[0]!.status()
    expect(status.phase).toBe('running')
    expect(status.repos).toEqual([REPO])
    expect(nodes.flatMap((n) => n.status().watching)).toEqual([REPO])
  }, 120_000)
})

describe('a holder at work past its first lease', () => {
  it('announces each renewal: the others never see the task offered again, and no event repeats', async () => {
    const f = await mesh.forge(['alpha', 'bravo'], [{ title: 'A slow one', body: 'Add slow.md', author: 'maintainer', labels: ['bzzz'] }])
    // The agent works 14 s; the lease is 8 s, renewed every 2 s.
    const nodes = await Promise.all(['alpha', 'bravo'].map(async (name) => await mesh.node({ name, forge: f, executor: { steps: [{ file: 'slow-{issue}.md', content: 'slow\n', delayMs: 14_000 }] } })))
    const key = `${REPO}#1`
    const seen: string[] = []
    for (const [i, n] of nodes.entries()) {
      for (const ev of ['task:claimed', 'task:running'] as const) n.on(ev, (d: { key: string, node: string }) => { if (d.key === key) seen.push(`${i} ${ev} ${d.node}`) })
    }
    for (const n of nodes) await n.start()
    await connectAll(nodes)
    const claimed = await waitFor('the claim', () => nodes[0]!.tasks().find((t) => t.key === key && t.holder !== undefined), 30_000)
    const holder = claimed.holder!.node
    const other = nodes.find((n) => n.nodeId !== holder)!
    const firstLease = claimed.holder!.leaseExpiresAt!
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstLease + 3000 - Date.now())))
    const view = other.tasks().find((t) => t.key === key)!
    expect(view.status).toBe('running')
    expect(view.claimable).toBe(false)
    expect(view.holder?.leaseExpiresAt).toBeGreaterThan(firstLease)
    await waitFor('done', () => other.tasks().find((t) => t.key === key)?.status === 'done', 60_000)
    expect(await pullRequests(f)).toHaveLength(1)
    // Each node saw the claim and the start of work once: renewals are no news.
    expect(seen.sort()).toEqual([`0 task:claimed ${holder}`, `0 task:running ${holder}`, `1 task:claimed ${holder}`, `1 task:running ${holder}`])
  }, 120_000)
})
