import { describe, expect, it } from 'vitest'
import type { Forge } from '@bzzz/forge'
import type { BzzzNode } from './node.js'
import type { ProgressEvent } from './events.js'
import { REPO, connectAll, pullRequests, testMesh, waitFor } from './test-utils.js'

const names = ['alpha', 'bravo', 'charlie']
const fixture = testMesh()

const steps = [
  { file: 'a-{issue}.md', content: 'first part\n' },
  { file: 'b-{issue}.md', content: 'second part\n', delayMs: 2500 },
  { file: 'c-{issue}.md', content: 'third part\n' }
]

async function mesh (): Promise<{ f: Forge, nodes: BzzzNode[], progress: Array<{ node: string, event: ProgressEvent }> }> {
  const f = await fixture.forge(names, [{ title: 'Three parts', body: 'Write a, b and c.', author: 'maintainer', labels: ['bzzz'] }])
  const nodes = await Promise.all(names.map(async (name) => await fixture.node({ name, forge: f, executor: { steps } })))
  const progress: Array<{ node: string, event: ProgressEvent }> = []
  for (const n of nodes) n.on('task:progress', ({ event }) => { progress.push({ node: n.nodeId, event }) })
  // A pushed WIP is announced on meta_discussion: record who pushed first.
  nodes[0]!.on('task:note', ({ node, body }) => { if (body.startsWith('wip ')) progress.push({ node, event: { kind: 'git', text: 'wip pushed' } }) })
  for (const n of nodes) await n.start()
  await connectAll(nodes)
  return { f, nodes, progress }
}

describe('takeover', () => {
  it('a holder that crashes mid-work is replaced; the next one continues from its WIP; one pull request', async () => {
    const { f, nodes, progress } = await mesh()
    const key = `${REPO}#1`
    // The holder pushes its first part, then crashes (no release, no goodbye).
    const holder = await waitFor('first WIP pushed', () => {
      const p = progress.find((x) => x.event.text === 'wip pushed')
      return p === undefined ? undefined : nodes.find((n) => n.nodeId === p.node)
    }, 30_000)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const killedAt = Date.now()
    await holder.kill()
    const survivors = nodes.filter((n) => n !== holder)
    const taker = await waitFor('another node holds the task', () => {
      const t = survivors[0]!.tasks().find((x) => x.key === key)
      return t !== undefined && t.attempt >= 2 && t.holder !== undefined && t.holder.node !== holder.nodeId ? t.holder.node : undefined
    }, 40_000)
    const tookMs = Date.now() - killedAt
    await waitFor('done', () => survivors.every((n) => n.tasks().find((x) => x.key === key)?.status === 'done'), 40_000)
    expect((await pullRequests(f)).length).toBe(1)
    // The new holder found the first part on the crashed holder's branch and did not write it again.
    expect(progress.some((p) => p.node === taker && p.event.text.startsWith('a-1.md is already there'))).toBe(true)
    console.log(JSON.stringify({ metric: 'in_process_takeover_ms', lease_ms: 8000, ms: tookMs }))
  }, 120_000)

  it('a drained holder pushes its WIP and releases; another node finishes from it', async () => {
    const { f, nodes, progress } = await mesh()
    const key = `${REPO}#1`
    const holder = await waitFor('first WIP pushed', () => {
      const p = progress.find((x) => x.event.text === 'wip pushed')
      return p === undefined ? undefined : nodes.find((n) => n.nodeId === p.node)
    }, 30_000)
    const released: string[] = []
    holder.on('task:released', ({ key: k }) => { released.push(k) })
    const t0 = Date.now()
    await holder.drain({ timeoutMs: 300 })
    const drainMs = Date.now() - t0
    console.log(JSON.stringify({ metric: 'in_process_drain_ms', deadline_ms: 300, ms: drainMs }))
    expect(drainMs).toBeLessThan(20_000)
    expect(holder.phase).toBe('stopped')
    expect(released).toEqual([key])
    const survivors = nodes.filter((n) => n !== holder)
    await waitFor('done', () => survivors.every((n) => n.tasks().find((x) => x.key === key)?.status === 'done'), 40_000)
    expect((await pullRequests(f)).length).toBe(1)
    if (!progress.some((p) => p.node !== holder.nodeId && p.event.text.startsWith('a-1.md is already there'))) console.log(JSON.stringify(progress))
    expect(progress.some((p) => p.node !== holder.nodeId && p.event.text.startsWith('a-1.md is already there'))).toBe(true)
  }, 120_000)
})
