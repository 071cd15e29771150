import { setTimeout as sleep } from 'node:timers/promises'
import type { Message, Topic } from '@bzzz/protocol'
import { describe, expect, it } from 'vitest'
import { createCatchUp } from './catch-up.js'

const task = (n: number): Message => ({ type: 'task', v: 1, task_id: `#${n}`, repo: 'o/r', node_id: 'me', timestamp: '2026-12-02T20:00:00Z' } as unknown as Message)

describe('catch-up', () => {
  it('replays the open tasks only, once for peers that appear together, then not before minGapMs', async () => {
    const replays: Array<Array<{ topic: Topic, message: Message }>> = []
    const open = new Set(['o/r#1', 'o/r#3'])
    const c = createCatchUp({
      delayMs: 20, minGapMs: 300, now: () => performance.now(), isOpen: (k) => open.has(k),
      replay: async (m) => { replays.push([...m]) }, fault: (err) => { throw err }
    })
    c.authored('presence_ping', { type: 'presence_ping' } as unknown as Message)
    for (const n of [1, 2, 3]) c.authored('task_broadcast', task(n))
    c.peerAppeared(); c.peerAppeared(); c.peerAppeared()
    await sleep(150)
    expect(replays).toHaveLength(1)
    expect(replays[0]!.map((r) => (r.message as { task_id: string }).task_id)).toEqual(['#1', '#3'])
    c.peerAppeared()
    await sleep(60)
    expect(replays).toHaveLength(1) // within minGapMs of the last replay
    await sleep(400)
    expect(replays).toHaveLength(2)
    c.stop()
  })
})
