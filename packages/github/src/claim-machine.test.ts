import { describe, expect, it } from 'vitest'
import { formatClaimBody, type ClaimComment, type ClaimMarker } from './claim.js'
import { chainBounds, chainWait, editFor, initialState, MAX_POSTS, step, stillHeld, type HandleState, type MachineConfig } from './claim-machine.js'

const T0 = Date.parse('2026-01-01T00:00:00Z')
const iso = (ms: number): string => new Date(ms).toISOString()
const cfg: MachineConfig = { node: 'me', nonce: 'n1', leaseMs: 60_000, settleMs: 500, graceMs: 2500, marginMs: 5000, trusted: ['me', 'peer'], breaks: undefined }
const marker = (over: Partial<ClaimMarker> = {}): ClaimMarker => ({ v: 1, node: 'me', lease_ms: 60_000, lease_expires: iso(T0 + 60_000), attempt: 1, state: 'claimed', nonce: 'n1', ...over })
const comment = (id: number, m: ClaimMarker, login = 'me', created = T0, updated = created): ClaimComment =>
  ({ id, body: formatClaimBody(m), user: { login }, created_at: iso(created), updated_at: iso(updated) })

function run (events: Parameters<typeof step>[2][], c = cfg): HandleState {
  return events.reduce<HandleState>((s, e) => step(c, s, e), initialState)
}

describe('the claim handle\'s state machine', () => {
  const own = comment(10, marker())
  const won = [{ type: 'post_answered' as const, comment: own, sentAt: 0 }, { type: 'read' as const, comments: [own], serverNow: T0 + 600, sentAt: 600 - 100, at: 600 }]

  it('posting → deciding → holding when the own claim is the lowest live one', () => {
    expect(run(won)).toMatchObject({ name: 'holding', attempt: 1, publishFrom: T0 + 2 * 500 + 5000 + 1000 })
  })

  it('a lower live claim by a trusted peer wins; by another login it counts for one lease from its creation, edits or not', () => {
    const lower = comment(5, marker({ node: 'other', nonce: 'x' }), 'peer')
    expect(run([won[0]!, { type: 'read', comments: [lower, own], serverNow: T0 + 600, sentAt: 600 - 100, at: 600 }])).toMatchObject({ name: 'lost', reason: 'held', withdraw: true })
    const c2 = { ...cfg, untrustedLeaseMs: 60_000 }
    const stranger = comment(5, marker({ node: 'other', nonce: 'x', lease_ms: 86_400_000 }), 'stranger', T0 - 1000)
    expect(run([won[0]!, { type: 'read', comments: [stranger, own], serverNow: T0 + 600, sentAt: 600 - 100, at: 600 }], c2)).toMatchObject({ name: 'lost', reason: 'held', retryAt: T0 - 1000 + 60_000 + 2500 })
    const edited = comment(5, marker({ node: 'other', nonce: 'x', lease_ms: 86_400_000 }), 'stranger', T0 - 70_000, T0)
    expect(run([won[0]!, { type: 'read', comments: [edited, own], serverNow: T0 + 600, sentAt: 600 - 100, at: 600 }], c2)).toMatchObject({ name: 'holding' })
    const strangerDone = comment(5, marker({ node: 'other', nonce: 'x', state: 'done' }), 'stranger')
    expect(run([won[0]!, { type: 'read', comments: [strangerDone, own], serverNow: T0 + 600, sentAt: 600 - 100, at: 600 }], c2)).toMatchObject({ name: 'holding' })
  })

  it('an unanswered POST is looked for, and posted again at most MAX_POSTS times', () => {
    const events: Parameters<typeof step>[2][] = []
    for (let i = 0; i < MAX_POSTS; i++) events.push({ type: 'post_ambiguous' }, { type: 'post_found', comment: undefined, sentAt: 0 })
    expect(run(events)).toMatchObject({ name: 'lost', reason: 'unanswered', orphan: true })
    expect(run([{ type: 'post_ambiguous' }, { type: 'post_found', comment: own, sentAt: 0 }])).toMatchObject({ name: 'deciding' })
  })

  it('a fence read that shows a break of the own claim: lost (broken), the comment kept', () => {
    const breaker = comment(12, marker({ node: 'other', nonce: 'x', breaks: 10, attempt: 2 }), 'peer', T0 + 5000)
    expect(run([...won, { type: 'read', comments: [own, breaker], serverNow: T0 + 9000, sentAt: 9000 - 100, at: 9000 }])).toMatchObject({ name: 'lost', reason: 'broken', withdraw: false })
  })

  it('a renewal answered more than a lease after the last confirmed one: lost (expired), never revived', () => {
    const late = comment(10, marker({ renews: iso(T0) }), 'me', T0, T0 + 61_000)
    expect(run([...won, { type: 'edit_sent', terminal: false }, { type: 'edit_answered', comment: late, sentAt: 1000, at: 1100, terminal: false }])).toMatchObject({ name: 'lost', reason: 'expired' })
  })

  it('the local clock ends the lease even when no answer comes (tick)', () => {
    expect(run([...won, { type: 'tick', at: 59_500 }])).toMatchObject({ name: 'lost', reason: 'expired' })
    expect(run([...won, { type: 'tick', at: 30_000 }])).toMatchObject({ name: 'holding' })
  })

  it('release after a terminal edit was sent keeps the comment; before, it withdraws it', () => {
    expect(run([...won, { type: 'release' }])).toMatchObject({ name: 'released', withdraw: true })
    expect(run([...won, { type: 'edit_sent', terminal: true }, { type: 'release' }])).toMatchObject({ name: 'released', withdraw: false })
    const done = comment(10, marker({ state: 'done' }), 'me', T0, T0 + 1000)
    expect(run([...won, { type: 'edit_sent', terminal: true }, { type: 'edit_answered', comment: done, sentAt: 900, at: 1000, terminal: true }, { type: 'release' }])).toMatchObject({ name: 'finished', state: 'done' })
  })

  it('after a terminal edit whose answer was lost, a renewal repeats the first terminal marker (never claimed over done)', () => {
    expect(editFor(run(won), 'claimed', undefined)).toEqual({ state: 'claimed', resultUrl: undefined })
    const sent = run([...won, { type: 'edit_sent', terminal: true, edit: { state: 'done', resultUrl: 'u1' } }])
    expect(editFor(sent, 'claimed', undefined)).toEqual({ state: 'done', resultUrl: 'u1' })
    const again = step(cfg, sent, { type: 'edit_sent', terminal: true, edit: { state: 'failed', resultUrl: 'u2' } })
    expect(editFor(again, 'failed', 'u2')).toEqual({ state: 'done', resultUrl: 'u1' })
  })

  it('another claim that is terminal ends the holder: the issue is finished', () => {
    const other = comment(14, marker({ node: 'other', nonce: 'x', state: 'done' }), 'peer', T0 + 2000)
    expect(run([...won, { type: 'read', comments: [own, other], serverNow: T0 + 9000, sentAt: 9000 - 100, at: 9000 }])).toMatchObject({ name: 'lost', reason: 'completed' })
  })

  describe('the chain of reads a fence needs', () => {
    // margin 5000, settle 500: gap 2500, span 5000 + 2500 + 2000 = 9500.
    const read = (sentAt: number, at = sentAt + 50): Parameters<typeof step>[2] => ({ type: 'read', comments: [own], serverNow: T0 + at, sentAt, at })
    const reads = (from: number, to: number, every: number): Array<Parameters<typeof step>[2]> => {
      const out = []
      for (let t = from; t <= to; t += every) out.push(read(t))
      return out
    }

    it('grows with reads less than the gap apart, and lets a fence pass once it reaches the span back', () => {
      expect(chainBounds(cfg)).toEqual({ gapMs: 2500, spanMs: 9500 })
      expect(chainWait(cfg, run(won))).toBe(600 + 9500 - 500)
      const s = run([...won, ...reads(2000, 10_200, 2000)])
      expect(s).toMatchObject({ name: 'holding', chain: { firstAt: 600, lastSent: 10_000, lastServer: T0 + 10_050 } })
      expect(chainWait(cfg, s)).toBe(100)
      expect(chainWait(cfg, run([...won, ...reads(2000, 10_200, 2000), read(10_100)]))).toBe(0)
    })

    it('a gap longer than chainGapMs (a pause, failed reads) starts it again: a fence reads for a span first', () => {
      const s = run([...won, ...reads(2000, 6000, 2000), read(8000, 8600)]) // answered 2600 after the last send
      expect(s).toMatchObject({ chain: { firstAt: 8600, lastSent: 8000 } })
      expect(chainWait(cfg, s)).toBe(9500 + 600)
      // A machine suspended between two reads: its monotonic clock stood still, the server's did not.
      const suspended = run([...won, ...reads(2000, 6000, 2000), { type: 'read', comments: [own], serverNow: T0 + 20_000, sentAt: 8000, at: 8050 }])
      expect(suspended).toMatchObject({ chain: { firstAt: 8050, lastSent: 8000 } })
    })

    it('a write of the own comment (renewal), answered or failed, starts it again after its answer; a read sent before does not count', () => {
      const renewed = comment(10, marker({ renews: iso(T0) }), 'me', T0, T0 + 5000)
      const base = [...won, ...reads(2000, 10_000, 2000)]
      const sent = run([...base, { type: 'edit_sent', terminal: false }])
      expect(sent).toMatchObject({ chain: undefined, writtenAt: Number.POSITIVE_INFINITY })
      const answered = run([...base, { type: 'edit_sent', terminal: false }, read(10_500), { type: 'edit_answered', comment: renewed, sentAt: 10_400, at: 10_600, terminal: false }, read(10_550, 10_650)])
      expect(answered).toMatchObject({ chain: undefined, writtenAt: 10_600 })
      expect(run([...base, { type: 'edit_sent', terminal: false }, { type: 'edit_failed', at: 10_700 }, read(10_800)])).toMatchObject({ chain: { firstAt: 10_850, lastSent: 10_800 }, writtenAt: 10_700 })
      expect(chainWait(cfg, sent)).toBe(9500)
    })
  })

  it('a loser asked again: a claim still holds (its lease end, or for ever when finished), or none does (released, deleted, broken)', () => {
    const holder = comment(5, marker({ node: 'other', nonce: 'x' }), 'peer', T0, T0 + 1000)
    expect(stillHeld(cfg, [holder], T0 + 2000)).toMatchObject({ winner: { id: 5 }, retryAt: T0 + 1000 + 60_000 + 2500 })
    expect(stillHeld(cfg, [], T0 + 2000)).toBeUndefined()
    const breaker = comment(7, marker({ node: 'third', nonce: 'y', breaks: 5, attempt: 2 }), 'peer', T0 + 1500)
    expect(stillHeld(cfg, [holder, breaker], T0 + 2000)).toMatchObject({ winner: { id: 7 } })
    const done = comment(5, marker({ node: 'other', nonce: 'x', state: 'done' }), 'peer', T0, T0 + 1000)
    expect(stillHeld(cfg, [done], T0 + 2000)?.retryAt).toBe(Number.POSITIVE_INFINITY)
  })
})
