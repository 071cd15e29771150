import { afterEach, describe, expect, it } from 'vitest'
import type { Forge } from '@bzzz/forge'
import type { BzzzNode } from './node.js'
import type { NodeEvents } from './events.js'
import { REPO, connectAll, pullRequests, testForge, testNode, waitFor } from './test-utils.js'

const names = ['alpha', 'bravo', 'charlie']
let forge: Forge | undefined
let nodes: BzzzNode[] = []

afterEach(async () => {
  await Promise.all(nodes.map(async (n) => { await n.kill() }))
  nodes = []
  await forge?.close()
  forge = undefined
})

describe('createNode', () => {
  it('three nodes turn each labelled issue into exactly one pull request', async () => {
    forge = await testForge(names, [
      { title: 'Write a greeting', body: 'Add greeting.md', author: 'maintainer', labels: ['bzzz'] },
      { title: 'Not for agents', body: 'no label', author: 'maintainer' },
      { title: 'Add a changelog', body: 'Add CHANGELOG.md', author: 'maintainer', labels: ['bzzz'] }
    ])
    const f = forge
    nodes = await Promise.all(names.map(async (name) => await testNode({ name, forge: f })))
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
