import { validate, type Message } from '@bzzz/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { announce, caps, claim, helpRequest, helpResponse, ping, result, T0, ts } from './builders.test.util.js'
import { createLedger, type Ledger } from './ledger.js'

const nodes = ['n1', 'n2', 'n3', 'n4']
const OTHER_REPO = 'example-org/other-repo'
const taskIds = ['#1', '#2', '#3']
const time = fc.integer({ min: 0, max: 40 }).map((s) => T0 + s * 500)
const node = fc.constantFrom(...nodes)
const taskId = fc.constantFrom(...taskIds)
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined })

const message: fc.Arbitrary<Message> = fc.oneof(
  // Now and then a second repository with the same task ids: repo-less messages then fold into
  // neither task (and back when only one repository has the id).
  fc.record({ id: taskId, at: time, action: maybe(fc.constantFrom('open', 'update', 'withdraw') as fc.Arbitrary<'open' | 'update' | 'withdraw'>), revision: maybe(fc.constantFrom('r1', 'r2')), gpu: fc.boolean(), other: fc.integer({ min: 0, max: 4 }) })
    .map(({ id, at, action, revision, gpu, other }) => announce(id, at, { action, revision, ...(gpu ? { requirements: { gpu: true } } : {}), ...(other === 0 ? { repo: OTHER_REPO } : {}) })),
  fc.record({
    id: taskId,
    n: node,
    at: time,
    attempt: maybe(fc.integer({ min: 1, max: 3 })),
    claimId: maybe(fc.integer({ min: 1, max: 6 })),
    state: maybe(fc.constantFrom('claimed', 'running', 'released') as fc.Arbitrary<'claimed' | 'running' | 'released'>),
    lease: maybe(fc.integer({ min: 0, max: 60 }).map((s) => ts(T0 + s * 500))),
    breaks: maybe(fc.integer({ min: 1, max: 6 })),
    reason: maybe(fc.constantFrom('broken', 'expired', 'held')),
    noRepo: fc.boolean()
  }).map(({ id, n, at, attempt, claimId, state, lease, breaks, reason, noRepo }) =>
    claim(id, n, at, { attempt, claim_id: claimId, state, lease_expires: lease, breaks, reason, ...(noRepo ? { repo: undefined } : {}) })),
  fc.record({ id: taskId, n: node, at: time, fail: fc.boolean(), attempt: maybe(fc.integer({ min: 1, max: 3 })), noRepo: fc.integer({ min: 0, max: 4 }) })
    .map(({ id, n, at, fail, attempt, noRepo }) => result(id, n, at, { ...(fail ? { result_type: 'failure', reason: 'broke', attempt } : { attempt }), ...(noRepo === 0 ? { repo: undefined } : {}) })),
  fc.record({ id: taskId, n: node, at: time, rid: maybe(fc.constantFrom('a', 'b')), accepted: maybe(node) })
    .map(({ id, n, at, rid, accepted }) => helpRequest(id, n, at, { request_id: rid, accepted_node: accepted })),
  fc.record({ id: taskId, n: node, at: time, rid: maybe(fc.constantFrom('a', 'b')), can: fc.boolean(), eta: fc.integer({ min: 0, max: 3 }), load: maybe(fc.integer({ min: 0, max: 100 })) })
    .map(({ id, n, at, rid, can, eta, load }) => helpResponse(id, n, at, { request_id: rid, can_help: can, eta_seconds: eta, load })),
  fc.record({ n: node, at: time, slots: maybe(fc.integer({ min: 0, max: 2 })), status: fc.constantFrom('idle', 'busy', 'draining') as fc.Arbitrary<'idle' | 'busy' | 'draining'>, seq: maybe(fc.nat(5)) })
    .map(({ n, at, slots, status, seq }) => ping(n, at, { slots_free: slots, status, seq })),
  fc.record({ n: node, at: time, gpu: fc.boolean(), slots: maybe(fc.integer({ min: 0, max: 2 })) })
    .map(({ n, at, gpu, slots }) => caps(n, at, { slots_free: slots, ...(gpu ? { gpus: [{ name: 'rtx' }] } : {}) }))
)

/** A message and the local time it was received at (a little after it was sent). */
const delivery = fc.record({ message, delay: fc.integer({ min: 0, max: 3000 }) })
  .map(({ message, delay }) => ({ message, receivedAt: Date.parse(message.timestamp) + delay }))

function snapshot (ledger: Ledger, now: number): unknown {
  const tasks = ledger.tasks(now)
  return {
    tasks,
    peers: ledger.peers(now),
    plans: tasks.flatMap((t) => nodes.map((n) => ledger.claimPlan(t.key, n, now))),
    help: tasks.map((t) => ledger.help(t.key, now)),
    watchers: ledger.watchers('example-org/task-repo', now)
  }
}

describe('ledger convergence', () => {
  it('generates only valid messages', () => {
    fc.assert(fc.property(message, (m) => { validate(m) }), { numRuns: 300 })
  })

  it('any permutation and duplication of a message set gives the same state at every peer', () => {
    fc.assert(fc.property(
      fc.array(delivery, { minLength: 1, maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      fc.integer({ min: 0, max: 60 }).map((s) => T0 + s * 500),
      fc.context(),
      (deliveries, dupIdx, now, ctx) => {
        const a = createLedger({ selfId: 'n1' })
        for (const d of deliveries) a.observe(d.message, d.receivedAt)
        // The same set, shuffled deterministically from the generated indices, with duplicates.
        const shuffled = [...deliveries]
        dupIdx.forEach((k, i) => {
          const j = k % shuffled.length
          const x = shuffled[i % shuffled.length]!
          shuffled[i % shuffled.length] = shuffled[j]!
          shuffled[j] = x
        })
        const dups = dupIdx.map((k) => deliveries[k % deliveries.length]!)
        const b = createLedger({ selfId: 'n1' })
        for (const d of [...dups, ...shuffled.reverse(), ...dups]) b.observe(d.message, d.receivedAt)
        ctx.log(`${deliveries.length} messages, now=${now - T0}`)
        expect(snapshot(b, now)).toEqual(snapshot(a, now))
      }
    ), { numRuns: 400 })
  })

  it('state is independent of the order of the same messages (fast-check shuffles)', () => {
    fc.assert(fc.property(
      fc.array(delivery, { minLength: 1, maxLength: 30 }).chain((ds) => fc.tuple(fc.constant(ds), fc.shuffledSubarray(ds, { minLength: ds.length, maxLength: ds.length }))),
      ([ordered, shuffled]) => {
        const a = createLedger()
        const b = createLedger()
        for (const d of ordered) a.observe(d.message, d.receivedAt)
        for (const d of shuffled) b.observe(d.message, d.receivedAt)
        const now = T0 + 20_000
        expect(snapshot(b, now)).toEqual(snapshot(a, now))
      }
    ), { numRuns: 300 })
  })

  it('openTasks is tasks without the done, failed and withdrawn ones, and claimableTasks the claimable among them, read between any two messages', () => {
    fc.assert(fc.property(
      fc.array(delivery, { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 0, max: 60 }).map((s) => T0 + s * 500),
      (deliveries, now) => {
        const ledger = createLedger({ selfId: 'n1' })
        deliveries.forEach((d, i) => {
          ledger.observe(d.message, d.receivedAt)
          // Read after every message, against a ledger that never read before: what an earlier
          // read kept must not go stale.
          const fresh = createLedger({ selfId: 'n1' })
          for (const e of deliveries.slice(0, i + 1)) fresh.observe(e.message, e.receivedAt)
          const open = fresh.tasks(now).filter((t) => t.status !== 'done' && t.status !== 'failed' && t.status !== 'withdrawn')
          expect(ledger.openTasks(now)).toEqual(open)
          expect(ledger.claimableTasks(now)).toEqual(open.filter((t) => t.claimable))
        })
      }
    ), { numRuns: 300 })
  })
})
