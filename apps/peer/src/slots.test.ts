import { describe, expect, it } from 'vitest'
import type { Forge } from '@bzzz/forge'
import type { BzzzNode } from './node.js'
import { FAST_TIMINGS, REPO, connectAll, pullRequests, testMesh, waitFor } from './test-utils.js'

// A slot counts agent work. With a 4 s margin a claim's first fence passes about
// settle + margin + max(margin/2, 1 s) + 4 × settle ≈ 7 s after it: that long the result waits
// to be published after the scripted agent's 1 s. The periodic capabilities (at a random phase of
// their period) stay out of the test: only those the slot changes might send are counted.
const SLOW_FENCE = { ...FAST_TIMINGS, leaseMs: 30_000, renewEveryMs: 5000, marginMs: 4000, capabilitiesMs: 600_000 }
const steps = [{ file: 'issue-{issue}.md', content: 'done\n', delayMs: 1000 }]
const issues = [
  { title: 'First', body: 'one', author: 'maintainer', labels: ['bzzz'] },
  { title: 'Second', body: 'two', author: 'maintainer', labels: ['bzzz'] }
]

const mesh = testMesh()

interface Seen { at: number, event: 'claimed' | 'running' | 'result' | 'released', key: string }

/** alpha works (one slot); bravo only watches and relays, so it sees alpha's presence. */
async function pair (): Promise<{ f: Forge, alpha: BzzzNode, bravo: BzzzNode, seen: Seen[] }> {
  const f = await mesh.forge(['alpha', 'bravo'], issues)
  const alpha = await mesh.node({ name: 'alpha', forge: f, executor: { steps }, extra: { timings: SLOW_FENCE, slots: 1 } })
  const bravo = await mesh.node({ name: 'bravo', forge: f, executor: false, extra: { timings: SLOW_FENCE } })
  const nodes = [alpha, bravo]
  const seen: Seen[] = []
  alpha.on('task:claimed', ({ key, self }) => { if (self) seen.push({ at: Date.now(), event: 'claimed', key }) })
  alpha.on('task:running', ({ key, self }) => { if (self) seen.push({ at: Date.now(), event: 'running', key }) })
  alpha.on('task:result', ({ key, self }) => { if (self) seen.push({ at: Date.now(), event: 'result', key }) })
  alpha.on('task:released', ({ key }) => { seen.push({ at: Date.now(), event: 'released', key }) })
  for (const n of nodes) await n.start()
  await connectAll(nodes)
  return { f, alpha, bravo, seen }
}

const keys = [`${REPO}#1`, `${REPO}#2`]

describe('slots', () => {
  it('a one-slot node runs its next task while the last one waits for its fence, and claims each once', async () => {
    const { f, alpha, bravo, seen } = await pair()
    // Alpha's slot changes reach bravo in presence (at once when it fills up or frees its slot), not
    // as capabilities: those go to every peer, and a busy node's slots change with every run.
    const capabilities: string[] = []
    const slotsFree: number[] = []
    bravo.mesh.subscribe('capabilities', (m) => { if (m.node_id === alpha.nodeId) capabilities.push(m.timestamp) })
    bravo.mesh.subscribe('presence_ping', (m) => { if (m.node_id === alpha.nodeId && m.slots_free !== undefined) slotsFree.push(m.slots_free) })
    // The first task publishes (its agent has ended): the slot is free, the key still alpha's.
    const first = await waitFor('a task publishing', () => alpha.status().publishing[0], 30_000)
    expect(alpha.status().active).toContain(first)
    // Both publishing at once: the second ran while the first waited for its fence. Peers see both
    // as alpha's (presence's active_tasks); holding two tasks, alpha's one slot takes no third (a
    // node holds at most two tasks a slot: results waiting to publish stop its claims).
    await waitFor('both publishing', () => alpha.status().publishing.length === 2, 30_000)
    expect(alpha.status().slots).toEqual({ total: 1, free: 0 })
    await waitFor("bravo sees both in alpha's presence", () => {
      const p = bravo.peers().find((x) => x.nodeId === alpha.nodeId)
      return p !== undefined && keys.every((k) => p.activeTasks.includes(k)) && p.slotsFree === 0
    }, 10_000)
    await waitFor('both done', () => keys.every((k) => bravo.tasks().find((t) => t.key === k)?.status === 'done'), 60_000)

    const second = keys.find((k) => k !== first)!
    const at = (event: Seen['event'], key: string): number => seen.find((s) => s.event === event && s.key === key)!.at
    expect(at('running', second)).toBeLessThan(at('result', first))
    // Each task claimed once, never again while it published; one result and one pull request each.
    for (const key of keys) {
      expect(seen.filter((s) => s.key === key).map((s) => s.event)).toEqual(['claimed', 'running', 'result'])
    }
    expect(await pullRequests(f)).toHaveLength(2)
    await waitFor('alpha done with both', () => alpha.status().active.length === 0, 10_000)
    expect(alpha.status()).toMatchObject({ active: [], publishing: [], slots: { total: 1, free: 1 } })
    expect(slotsFree).toContain(0)
    expect(slotsFree.at(-1)).toBe(1)
    // At most the start's: a resend while the first reached nobody, and the catch-up's when bravo
    // appeared; none for the four slot changes of two runs.
    expect(capabilities.length).toBeLessThanOrEqual(2)
  }, 120_000)

  it('a drain waits for the results being published: each published once, nothing released', async () => {
    const { f, alpha, seen } = await pair()
    await waitFor('a task publishing', () => alpha.status().publishing[0], 30_000)
    await alpha.drain({ timeoutMs: 60_000 })
    expect(alpha.phase).toBe('stopped')
    const claimed = seen.filter((s) => s.event === 'claimed').map((s) => s.key)
    expect(claimed.length).toBeGreaterThanOrEqual(1)
    expect(seen.filter((s) => s.event === 'released')).toEqual([])
    expect(seen.filter((s) => s.event === 'result').map((s) => s.key).sort()).toEqual([...claimed].sort())
    expect(await pullRequests(f)).toHaveLength(claimed.length)
  }, 120_000)

  it('past the drain deadline a result being published is released, and another peer publishes it once', async () => {
    const f = await mesh.forge(['alpha', 'bravo'], [issues[0]!])
    const nodes = await Promise.all(['alpha', 'bravo'].map(async (name) => await mesh.node({ name, forge: f, executor: { steps }, extra: { timings: SLOW_FENCE } })))
    const key = `${REPO}#1`
    const released: string[] = []
    const results: string[] = []
    for (const n of nodes) {
      n.on('task:released', ({ key: k }) => { released.push(`${n.name ?? ''} ${k}`) })
      n.on('task:result', ({ key: k, self }) => { if (self) results.push(`${n.name ?? ''} ${k}`) })
    }
    for (const n of nodes) await n.start()
    await connectAll(nodes)
    const holder = await waitFor('the result publishing', () => nodes.find((n) => n.status().publishing.includes(key)), 30_000)
    const other = nodes.find((n) => n !== holder)!
    await holder.drain({ timeoutMs: 300 })
    expect(holder.phase).toBe('stopped')
    expect(released).toEqual([`${holder.name ?? ''} ${key}`])
    await waitFor('done', () => other.tasks().find((t) => t.key === key)?.status === 'done', 60_000)
    expect(results).toEqual([`${other.name ?? ''} ${key}`])
    expect(await pullRequests(f)).toHaveLength(1)
  }, 120_000)
})
