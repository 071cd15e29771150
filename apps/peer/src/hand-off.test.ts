import { describe, expect, it } from 'vitest'
import type { CapabilitiesMessage, TaskBroadcastMessage } from '@bzzz/protocol'
import type { PeerView } from '@bzzz/state'
import { createClaimPostings, createHandOff, type ClaimPostings, type HandOff } from './hand-off.js'

describe('claim postings', () => {
  it('a wait ends when the claim is posted, not before', async () => {
    const p = createClaimPostings()
    const posted = p.begin('o/r#1')
    expect(p.pending('o/r#1')).toBe(true)
    let over = false
    const waiting = p.wait('o/r#1', 10_000).then(() => { over = true })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(over).toBe(false)
    posted()
    await waiting
    expect(over).toBe(true)
    expect(p.pending('o/r#1')).toBe(false)
  })

  it('a wait ends after its bound when the claim never posts, and at once when none is pending', async () => {
    const p = createClaimPostings()
    p.begin('o/r#2')
    const t0 = Date.now()
    await p.wait('o/r#2', 60)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55)
    expect(p.pending('o/r#2')).toBe(true)
    const t1 = Date.now()
    await p.wait('o/r#3', 10_000)
    await p.wait('o/r#2', 0)
    expect(Date.now() - t1).toBeLessThan(50)
  })

  it('a late settle of an earlier claim leaves a newer claim of the same key pending', async () => {
    const p = createClaimPostings()
    const first = p.begin('o/r#4')
    first()
    const second = p.begin('o/r#4')
    first()
    expect(p.pending('o/r#4')).toBe(true)
    second()
    second()
    expect(p.pending('o/r#4')).toBe(false)
  })
})

describe('createHandOff', () => {
  type Sent = { to: string, key: string, aborted: Promise<void> }
  const task = (n: number): TaskBroadcastMessage => ({
    type: 'task', task_id: `#${n}`, repo: 'o/r', issue_url: `https://x/o/r/issues/${n}`, model: 'm', input: 'i', params: {}, timestamp: new Date().toISOString(), node_id: 'w'
  })
  const peer = (nodeId: string, hasFreeSlot = true, liveness = 'alive'): PeerView => ({ nodeId, hasFreeSlot, liveness, activeTasks: [] }) as unknown as PeerView

  function setup (opts: { peers: PeerView[], freeSlots?: number, answer?: (to: string) => Promise<void> | 'hang', handOffMs?: number }): { handOff: HandOff, sent: Sent[], plans: number[], postings: ClaimPostings, dials: string[], added: Array<[string, string[]]>, connected: Set<string> } {
    const sent: Sent[] = []
    const plans: number[] = []
    const dials: string[] = []
    const added: Array<[string, string[]]> = []
    const connected = new Set<string>()
    const postings = createClaimPostings()
    const handOff = createHandOff({
      nodeId: 'w',
      ledger: { peers: () => opts.peers },
      mesh: {
        isStarted: () => true,
        getPeers: () => [...connected] as never,
        dial: async (id) => {
          dials.push(String(id))
          if (String(id).startsWith('bad')) throw new Error('no route')
          connected.add(String(id))
          return id as never
        },
        addAddresses: async (id, addrs) => { added.push([String(id), [...addrs]]) },
        send: async (to, _topic, message, options) => {
          const aborted = new Promise<void>((resolve) => { options?.signal?.addEventListener('abort', () => { resolve() }) })
          sent.push({ to: String(to), key: `${(message as TaskBroadcastMessage).repo}${(message as TaskBroadcastMessage).task_id}`, aborted })
          const a = opts.answer?.(String(to))
          if (a === 'hang') { await aborted; throw new Error('aborted') }
          await a
        }
      },
      postings,
      now: Date.now,
      freeSlots: () => opts.freeSlots ?? 0,
      planNow: () => { plans.push(Date.now()) },
      handOffMs: opts.handOffMs ?? 300,
      log: { debug: () => {} }
    })
    return { handOff, sent, plans, postings, dials, added, connected }
  }

  it('hands the task to the one peer that ranks first and waits for its answer', async () => {
    let answer!: () => void
    const s = setup({ peers: [peer('p1'), peer('p2', false), peer('p3', true, 'dead')], answer: async () => { await new Promise<void>((resolve) => { answer = resolve }) }, handOffMs: 5000 })
    let over = false
    const announcing = s.handOff.announce(task(1)).then(() => { over = true })
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(s.sent.map((x) => [x.to, x.key])).toEqual([['p1', 'o/r#1']])
    expect(over).toBe(false)
    answer()
    await announcing
  })

  it('an announcement waits at most its bound, for a peer that never answers', async () => {
    const s = setup({ peers: [peer('p1')], answer: () => 'hang', handOffMs: 150 })
    const t0 = Date.now()
    await s.handOff.announce(task(2))
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140)
    expect(Date.now() - t0).toBeLessThan(1000)
    await s.sent[0]!.aborted
  })

  it('announcements of one poll wait for each other\'s hand-offs, each within its own bound', async () => {
    const s = setup({ peers: [peer('p1')], answer: (() => { let n = 0; return () => (n++ === 0 ? Promise.resolve() : 'hang') })(), handOffMs: 200 })
    const t0 = Date.now()
    const ends: number[] = []
    const first = s.handOff.announce(task(3)).then(() => { ends.push(Date.now() - t0) })
    const second = s.handOff.announce(task(4)).then(() => { ends.push(Date.now() - t0) })
    await Promise.all([first, second])
    // The first answered at once but waited for the second's hand-off, which never answered.
    expect(Math.min(...ends)).toBeGreaterThanOrEqual(190)
    expect(Math.max(...ends)).toBeLessThan(1000)
  })

  it('when this node ranks first it plans now and waits for its own claim; nothing is sent', async () => {
    const s = setup({ peers: [peer('p1', false)], freeSlots: 1, handOffMs: 5000 })
    const announcing = s.handOff.announce(task(5))
    expect(s.plans).toHaveLength(1)
    const posted = s.postings.begin('o/r#5')
    await new Promise((resolve) => setTimeout(resolve, 20))
    posted()
    await announcing
    expect(s.sent).toEqual([])
    // Nobody can take it: it goes to the mesh at once.
    const none = setup({ peers: [peer('p1', false)], freeSlots: 0 })
    await none.handOff.announce(task(6))
    expect(none.sent).toEqual([])
  })

  it('a task handed here is answered once its claim here is posted', async () => {
    const s = setup({ peers: [] })
    const posted = s.postings.begin('o/r#7')
    let over = false
    const receiving = s.handOff.received(task(7)).then(() => { over = true })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(over).toBe(false)
    posted()
    await receiving
    await s.handOff.received(task(8)) // no claim here: at once
    expect(s.plans.length).toBeGreaterThanOrEqual(1)
  })

  it('learns each peer\'s addresses once per change, and connects ahead to the live peers it can dial', async () => {
    const s = setup({ peers: [peer('p1'), peer('p2'), peer('p3', true, 'dead'), peer('bad1')] })
    const caps = (id: string, addrs: string[]): CapabilitiesMessage => ({ type: 'capabilities', node_id: id, cpu: 0, gpu: 0, models: [], installed: [], status: 'idle', timestamp: new Date().toISOString(), addrs })
    s.handOff.learn(caps('p1', ['/memory/a']))
    s.handOff.learn(caps('p1', ['/memory/a']))
    s.handOff.learn(caps('p1', ['/memory/b']))
    s.handOff.learn(caps('w', ['/memory/self']))
    for (const id of ['p3', 'bad1']) s.handOff.learn(caps(id, ['/memory/x']))
    expect(s.added).toEqual([['p1', ['/memory/a']], ['p1', ['/memory/b']], ['p3', ['/memory/x']], ['bad1', ['/memory/x']]])
    s.handOff.connectAhead()
    await new Promise((resolve) => setTimeout(resolve, 20))
    // p2 announced no address, p3 is dead; bad1 fails and is not dialled again within a minute.
    expect(s.dials).toEqual(['p1', 'bad1'])
    s.handOff.connectAhead()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(s.dials).toEqual(['p1', 'bad1'])
  })
})
