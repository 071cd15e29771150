// Model-based test of the claim handle itself (claimer.ts + claim-machine.ts + the publisher's
// publishing step): several peers claim, renew, fence, publish, release and break one issue
// against an in-memory model of GitHub on a virtual clock, with every fault the model injects.
// Invariants: no two handles' fence passes overlap in server time; at most one result is
// published per issue; once a finished (terminal) claim is listed, nobody wins or passes a fence.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatClaimBody, parseClaimMarker } from './claim.js'
import { createClaimer, type ClaimHandle, type Claimer } from './claimer.js'
import { MemoryGitHub, VirtualClock, type Fault, type FaultKind, type MemoryClient } from './memory-github.test.util.js'
import { createPublisher, type Publisher } from './publish.js'

const LEASE = 20_000
const SETTLE = 400
const MARGIN = 4000
const WORK = 3000 // a holder works at least this long before its first fence
const PEERS = ['p0', 'p1', 'p2']
const REPO = 'o/r'

interface Peer {
  login: string
  mc: MemoryClient
  claimer: Claimer
  publisher: Publisher
  handle: ClaimHandle | undefined
  wonAt: number
  busy: boolean
  crashed: boolean
}

interface World {
  clock: VirtualClock
  gh: MemoryGitHub
  peers: Peer[]
  lagMax: number
  passes: Array<{ claim: number, from: number, to: number }>
  wins: Array<{ claim: number, calledAt: number }>
  log: string[]
}

function world (lagMax: number, latencyMax: number, seed: number): World {
  const clock = new VirtualClock()
  const random = fc.sample(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { seed, numRuns: 1 })[0]!
  let state = Math.floor(random * 2 ** 31) || 1
  const rand = (): number => { state = (state * 48271) % 2147483647; return state / 2147483647 }
  const gh = new MemoryGitHub({ clock, lagMaxMs: lagMax, latencyMaxMs: latencyMax, random: rand })
  const w: World = { clock, gh, peers: [], lagMax, passes: [], wins: [], log: [] }
  for (const login of PEERS) {
    const mc = gh.client(login)
    const client = mc.asClient()
    const claimer = createClaimer({ client, node: `node-${login}`, leaseMs: LEASE, settleMs: SETTLE, marginMs: MARGIN, renewEveryMs: LEASE / 2, trustedClaimants: PEERS, clock })
    // The publisher's settle delay must cover the list lag (it looks for a write whose answer was
    // lost); the claimer's may be shorter, as its fences notice what its settle delay missed.
    const publisher = createPublisher({ client, settleMs: 2 * SETTLE, clock })
    w.peers.push({ login, mc, claimer, publisher, handle: undefined, wonAt: 0, busy: false, crashed: false })
  }
  return w
}

const now = (w: World): number => w.gh.serverNow()

/** The lowest current claimed comment by a peer: the one a breaker would name. */
function currentHolder (w: World): number | undefined {
  for (const c of w.gh.listAt(1, now(w))) {
    const m = parseClaimMarker(c.body)
    if (m?.state === 'claimed' && PEERS.includes(c.author)) return c.id
  }
  return undefined
}

function record (w: World, h: ClaimHandle): void {
  const orig = h.fence.bind(h)
  h.fence = async (o) => {
    const from = now(w)
    const pass = await orig(o)
    const to = w.gh.serverNow() + (pass.deadline - w.clock.now())
    // A young claim's fence waits before its last read: the pass starts at that read (deadline − margin).
    w.passes.push({ claim: h.claimId, from: Math.max(from, to - MARGIN), to })
    return pass
  }
}

function checkInvariants (w: World): void {
  // 1. Fence passes of different claims never overlap.
  for (const a of w.passes) {
    for (const b of w.passes) {
      if (a.claim < b.claim && a.from <= b.to && b.from <= a.to) {
        throw new Error(`claims ${a.claim} and ${b.claim} both passed fences over [${a.from}, ${a.to}] and [${b.from}, ${b.to}]\n${w.log.join('\n')}`)
      }
    }
  }
  // 2. At most one result: pull requests and failure reports by the peers.
  const pulls = w.gh.pulls.filter((p) => PEERS.includes(p.author)).length
  const reports = [...w.gh.comments.values()].filter((c) => PEERS.includes(c.author) && c.versions[0]?.body?.includes('bzzz:failure') === true).length
  if (pulls + reports > 1) throw new Error(`${pulls} pull requests and ${reports} failure reports\n${w.log.join('\n')}`)
  // 3. Once a terminal claim is listed (for every read), nobody wins or passes a fence.
  const terminal = w.gh.applied.find((a) => a.what === 'edit-comment' && ['done', 'failed'].includes(parseClaimMarker(versionAt(w, a.id, a.at))?.state ?? ''))
  if (terminal !== undefined) {
    const visible = terminal.at + w.lagMax
    const late = w.wins.find((x) => x.calledAt >= visible && x.claim !== terminal.id)
    if (late !== undefined) throw new Error(`claim ${late.claim} won after the issue was finished\n${w.log.join('\n')}`)
    const pass = w.passes.find((p) => p.from >= visible + 1000 && p.claim !== terminal.id)
    if (pass !== undefined) throw new Error(`claim ${pass.claim} passed a fence after the issue was finished\n${w.log.join('\n')}`)
  }
}

function versionAt (w: World, id: number, at: number): string | undefined {
  const c = w.gh.comments.get(id)
  let body: string | undefined
  for (const v of c?.versions ?? []) if (v.at <= at) body = v.body
  return body
}

// --- commands -----------------------------------------------------------------------------------
type Cmd = fc.AsyncCommand<object, World>

const startOp = (w: World, p: Peer, what: string, op: () => Promise<unknown>): void => {
  p.busy = true
  w.log.push(`${now(w)} ${p.login} ${what}`)
  op().then(() => { w.log.push(`${now(w)} ${p.login} ${what}: ok`) }, (err: Error) => { w.log.push(`${now(w)} ${p.login} ${what}: ${err.name} ${err.message}`) })
    .finally(() => { p.busy = false })
}

class ClaimCmd implements Cmd {
  constructor (readonly peer: number, readonly brk: boolean) {}
  check (): boolean { return true }
  async run (_m: object, w: World): Promise<void> {
    const p = w.peers[this.peer]!
    if (p.busy || p.crashed || (p.handle !== undefined && !p.handle.signal.aborted)) return
    const breaks = this.brk ? currentHolder(w) : undefined
    if (breaks !== undefined) stats.breaks++
    const calledAt = now(w)
    startOp(w, p, `claims${breaks !== undefined ? ` breaking ${breaks}` : ''}`, async () => {
      const r = await p.claimer.claim(REPO, 1, breaks !== undefined ? { breaks } : {})
      if (r.outcome === 'won') {
        p.handle = r.claim
        p.wonAt = w.clock.now()
        r.claim.startRenewing()
        record(w, r.claim)
        w.wins.push({ claim: r.claim.claimId, calledAt })
        w.log.push(`${now(w)} ${p.login} won with ${r.claim.claimId}`)
      } else {
        w.log.push(`${now(w)} ${p.login} lost (${r.reason}, ${r.winner?.id ?? '-'})`)
      }
    })
  }

  toString (): string { return `claim(${this.peer}${this.brk ? ', break' : ''})` }
}

const holderOp = (name: string, op: (p: Peer, h: ClaimHandle, w: World) => Promise<unknown>, needsWork = true) => class implements Cmd {
  constructor (readonly peer: number) {}
  check (): boolean { return true }
  async run (_m: object, w: World): Promise<void> {
    const p = w.peers[this.peer]!
    const h = p.handle
    if (h === undefined || p.busy || p.crashed || h.signal.aborted) return
    if (needsWork && w.clock.now() - p.wonAt < WORK) return
    startOp(w, p, `${name} ${h.claimId}`, async () => await op(p, h, w))
  }

  toString (): string { return `${name}(${this.peer})` }
}

const FenceCmd = holderOp('fence', async (_p, h) => await h.fence())
const RenewCmd = holderOp('renew', async (_p, h) => { await h.renew() }, false)
const ReleaseCmd = holderOp('release', async (_p, h) => { await h.release() }, false)
const PublishCmd = holderOp('publish', async (p, h) => {
  const fork = { owner: p.login, repo: 'r', fullName: `${p.login}/r`, defaultBranch: 'main', cloneUrl: '' }
  const r = await p.publisher.openPullRequest(h, { fork, branch: `bzzz/1-${h.claimId}`, title: 't', summary: 's' })
  await h.complete(r.adopted?.state ?? 'done', r.url)
})
const ReportCmd = holderOp('report', async (p, h) => {
  const r = await p.publisher.reportFailure(h, { tried: 'x', error: 'y', durationMs: 1 })
  await h.complete(r.adopted?.state ?? 'failed', r.url)
})

class AdvanceCmd implements Cmd {
  constructor (readonly ms: number) {}
  check (): boolean { return true }
  async run (_m: object, w: World): Promise<void> {
    await w.clock.advance(this.ms)
    stats.advanced += this.ms
    checkInvariants(w)
  }

  toString (): string { return `advance(${this.ms})` }
}

class FaultCmd implements Cmd {
  constructor (readonly peer: number, readonly fault: Fault) {}
  check (): boolean { return true }
  async run (_m: object, w: World): Promise<void> { stats.faults++; w.peers[this.peer]!.mc.faults.push(this.fault) }
  toString (): string { return `fault(${this.peer}, ${JSON.stringify(this.fault)})` }
}

class CrashCmd implements Cmd {
  check (): boolean { return true }
  async run (_m: object, w: World): Promise<void> {
    const p = w.peers[this.peer]!
    stats.crashes++
    if (this.pauseMs === undefined) {
      p.crashed = true
      p.handle?.stopRenewing()
      w.log.push(`${now(w)} ${p.login} crashes`)
      return
    }
    // A pause: no renewals and no steps for a while (the mesh may hold it dead), then on again.
    const h = p.handle
    if (h === undefined || p.busy || p.crashed) return
    h.stopRenewing()
    startOp(w, p, `pauses ${this.pauseMs} ms`, async () => {
      await w.clock.sleep(this.pauseMs!)
      h.startRenewing()
    })
  }

  constructor (readonly peer: number, readonly pauseMs?: number) {}
  toString (): string { return `${this.pauseMs === undefined ? 'crash' : 'pause'}(${this.peer}${this.pauseMs !== undefined ? `, ${this.pauseMs}` : ''})` }
}

/** Someone else: a stranger posts a marker (ignored), a maintainer deletes or edits a claim. */
class OtherCmd implements Cmd {
  constructor (readonly kind: 'stranger-claim' | 'stranger-done' | 'delete' | 'edit', readonly pick: number) {}
  check (): boolean { return true }
  async run (_m: object, w: World): Promise<void> {
    stats.others++
    if (this.kind === 'stranger-claim' || this.kind === 'stranger-done') {
      const state = this.kind === 'stranger-done' ? 'done' : 'claimed'
      w.gh.postComment('stranger', 1, formatClaimBody({ v: 1, node: 'evil', lease_ms: 86_400_000, lease_expires: '2099-01-01T00:00:00Z', attempt: 1, state, nonce: 'evil' }))
      return
    }
    // Maintainers clean up claims in progress (a finished issue's record is not theirs to remove here).
    const claimed = w.gh.listAt(1, now(w)).filter((c) => parseClaimMarker(c.body)?.state === 'claimed')
    const c = claimed[this.pick % Math.max(1, claimed.length)]
    if (c === undefined) return
    w.log.push(`${now(w)} maintainer ${this.kind}s ${c.id}`)
    if (this.kind === 'delete') w.gh.deleteComment('maintainer', c.id, true)
    else w.gh.editComment('maintainer', c.id, 'removed by a maintainer', true)
  }

  toString (): string { return `other(${this.kind}, ${this.pick})` }
}

const peerArb = fc.integer({ min: 0, max: PEERS.length - 1 })
const faultArb: fc.Arbitrary<Fault> = fc.record({
  kind: fc.constantFrom<FaultKind>('error-before', 'error-after', 'no-answer', 'held', 'slow-answer'),
  method: fc.constantFrom('POST', 'PATCH', 'GET', 'DELETE'),
  delayMs: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 2000 }), weight: 3 }, { arbitrary: fc.integer({ min: LEASE, max: 2 * LEASE }), weight: 1 })
}).map((f) => (f.method === 'POST' && f.kind === 'held' ? { ...f, delayMs: Math.min(f.delayMs, 50) } : f))

function commands (breaks: boolean): fc.Arbitrary<Iterable<Cmd>> {
  const claim = fc.tuple(peerArb, fc.boolean()).map(([p, b]) => new ClaimCmd(p, breaks && b))
  const advance = fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: 1000 }), weight: 3 },
    { arbitrary: fc.integer({ min: 1000, max: 8000 }), weight: 3 },
    { arbitrary: fc.integer({ min: 8000, max: LEASE + 5000 }), weight: 1 }
  ).map((ms) => new AdvanceCmd(ms))
  const fence = peerArb.map((p) => new FenceCmd(p))
  const publish = peerArb.map((p) => new PublishCmd(p))
  return fc.commands([
    claim, claim,
    advance, advance, advance, advance, advance,
    fence, fence,
    publish, publish,
    peerArb.map((p) => new RenewCmd(p)),
    peerArb.map((p) => new ReportCmd(p)),
    peerArb.map((p) => new ReleaseCmd(p)),
    fc.tuple(peerArb, faultArb).map(([p, f]) => new FaultCmd(p, f)),
    fc.tuple(peerArb, faultArb).map(([p, f]) => new FaultCmd(p, f)),
    peerArb.map((p) => new CrashCmd(p)),
    fc.tuple(peerArb, fc.integer({ min: 1000, max: 2 * LEASE })).map(([p, ms]) => new CrashCmd(p, ms)),
    fc.tuple(fc.constantFrom('stranger-claim' as const, 'stranger-done' as const, 'delete' as const, 'edit' as const), fc.nat(5)).map(([k, i]) => new OtherCmd(k, i))
  ], { maxCommands: 60, size: 'max' })
}

async function runModel (lagMax: number, latencyMax: number, seed: number, cmds: Iterable<Cmd>): Promise<void> {
  const w = world(lagMax, latencyMax, seed)
  const list = [...cmds]
  stats.commands += list.length
  await fc.asyncModelRun(() => ({ model: {}, real: w }), list)
  // Let everything in flight finish (two leases), then check once more.
  await w.clock.advance(3 * LEASE)
  if (process.env.BZZZ_MODEL_LOG !== undefined) console.log(w.log.join('\n'), JSON.stringify(w.passes))
  checkInvariants(w)
  stats.runs++
  stats.wins += w.wins.length
  stats.passes += w.passes.length
  stats.published += w.gh.pulls.length + [...w.gh.comments.values()].filter((c) => c.versions[0]?.body?.includes('bzzz:failure') === true).length
  stats.breaksWon += w.log.filter((l) => l.includes('breaking')).length > 0 && w.wins.length > 1 ? 1 : 0
  stats.lostHeld += w.log.filter((l) => l.includes('lost (held')).length
  stats.twoWinners += w.wins.length > 1 ? 1 : 0
  if (process.env.BZZZ_MODEL_STATS !== undefined) {
    for (const l of w.log) {
      const m = /(fence|publish|report|renew) \d+: (.*)$/.exec(l)
      if (m !== null) outcomes.set(`${m[1]}: ${m[2]!.replace(/\d+/g, 'N')}`, (outcomes.get(`${m[1]}: ${m[2]!.replace(/\d+/g, 'N')}`) ?? 0) + 1)
    }
  }
}
const outcomes = new Map<string, number>()

const RUNS = Number(process.env.BZZZ_MODEL_RUNS ?? 1000)
/**
 * The seed is fixed so that the test command is deterministic (CI must not be flaky); random
 * seeds explore further: BZZZ_MODEL_SEED=random (every counter-example found that way is kept
 * in FOUND below); a number (with BZZZ_MODEL_PATH from fast-check's report) replays a failure.
 */
const PINNED_SEED = 11
const seedEnv = process.env.BZZZ_MODEL_SEED ?? String(PINNED_SEED)
const SEED = seedEnv === 'random'
  ? {}
  : { seed: Number(seedEnv), ...(process.env.BZZZ_MODEL_PATH !== undefined ? { path: process.env.BZZZ_MODEL_PATH } : {}) }
/** What the runs covered (printed with BZZZ_MODEL_STATS=1; asserted below so that the test keeps exercising the handle). */
export const stats = { runs: 0, wins: 0, passes: 0, published: 0, breaksWon: 0, lostHeld: 0, faults: 0, breaks: 0, others: 0, crashes: 0, twoWinners: 0, commands: 0, advanced: 0 }

describe('the claim handle against a model of GitHub (virtual time)', () => {
  it(`${RUNS} runs: lag ≤ and > settleMs, 5xx before/after applying, no answer, held and slow answers past the lease, strangers, maintainers, crashes, breaks`, async () => {
    await fc.assert(fc.asyncProperty(
      // Lag beyond settleMs (up to 2×) is covered: a holder works WORK > lag before it fences.
      fc.constantFrom(0, SETTLE / 2, SETTLE, 2 * SETTLE),
      fc.constantFrom(0, 20, 60),
      fc.integer({ min: 1, max: 1_000_000 }),
      commands(true),
      async (lagMax, latencyMax, seed, cmds) => { await runModel(lagMax, latencyMax, seed, cmds) }
    ), { numRuns: RUNS, ...SEED })
    if (process.env.BZZZ_MODEL_STATS !== undefined) console.log(JSON.stringify(stats), [...outcomes].sort((a, b) => b[1] - a[1]).slice(0, 20))
    // The runs reach the interesting places: wins, takeovers, fences passed, results published.
    expect(stats.wins).toBeGreaterThan(RUNS / 2)
    expect(stats.twoWinners).toBeGreaterThan(RUNS / 20)
    expect(stats.passes).toBeGreaterThan(RUNS / 8) // about 22 % of runs pass a fence (fences wait for their chain of reads)
    expect(stats.published).toBeGreaterThan(RUNS / 20)
  }, 600_000)
})

/** Counter-examples the property found (and fixed since), kept as fixed runs. */
const FOUND: Array<{ why: string, lagMax: number, latencyMax: number, seed: number, cmds: () => Cmd[] }> = [
  {
    why: 'a failure report whose POST was applied and answered 502 was posted again: the publisher waited less than the list lag before looking for it',
    lagMax: 800,
    latencyMax: 0,
    seed: 1,
    cmds: () => [new ClaimCmd(1, false), new AdvanceCmd(3400), new FaultCmd(1, { kind: 'held', method: 'POST', delayMs: 50 }), new ReportCmd(1), new AdvanceCmd(8000)]
  },
  {
    why: 'a partitioned holder fences just before a break; the breaker fences as soon as it may: their passes must not overlap',
    lagMax: 400,
    latencyMax: 0,
    seed: 1,
    cmds: () => [new ClaimCmd(0, false), new AdvanceCmd(3400), new FenceCmd(0), new ClaimCmd(1, true), new AdvanceCmd(3500), new FenceCmd(1), new FenceCmd(0), new AdvanceCmd(9000), new PublishCmd(1), new AdvanceCmd(9000)]
  },
  {
    why: 'a terminal edit got no answer (applied), then a renewal wrote `claimed` over `done`: the issue was claimable again (seed 966894663)',
    lagMax: 0,
    latencyMax: 0,
    seed: 1,
    cmds: () => [
      new ClaimCmd(0, false), new AdvanceCmd(1), new ClaimCmd(1, false), new FaultCmd(0, { kind: 'error-before', method: 'GET', delayMs: 0 }), new AdvanceCmd(3400),
      new PublishCmd(1), new FaultCmd(1, { kind: 'no-answer', method: 'PATCH', delayMs: 0 }), new AdvanceCmd(2801), new RenewCmd(1), new AdvanceCmd(1000), new ClaimCmd(0, true), new AdvanceCmd(1000)
    ]
  },
  {
    why: 'a breaker\'s fence waits out its young-claim delay: its pass starts after the broken holder\'s (the model counted it from the call; seed -2104326941)',
    lagMax: 0,
    latencyMax: 0,
    seed: 1,
    cmds: () => [new ClaimCmd(1, false), new AdvanceCmd(6000), new FenceCmd(1), new ClaimCmd(2, true), new AdvanceCmd(3400), new ReportCmd(2)]
  },
  // The break-then-delete gap (docs/github.md): a maintainer deletes or edits the breaker's
  // claim after its fence passed; the broken holder, alive after all, must not pass inside the
  // breaker's step. Fixed by the fence's chain of reads (claim-machine.ts `Chain`).
  {
    why: 'the breaker passes a fence, a maintainer deletes its claim, the broken (but live) holder publishes (seed 966894663)',
    lagMax: 800,
    latencyMax: 0,
    seed: 1,
    cmds: () => [new ClaimCmd(2, false), new AdvanceCmd(400), new ClaimCmd(1, true), new AdvanceCmd(5600), new FenceCmd(1), new OtherCmd('delete', 1), new AdvanceCmd(726), new PublishCmd(2), new AdvanceCmd(1000)]
  },
  {
    why: 'the breaker passes a fence, a maintainer edits its marker away, the broken holder (its first fence answered 502) fences (seed -1605057500)',
    lagMax: 400,
    latencyMax: 0,
    seed: 1,
    cmds: () => [
      new ClaimCmd(1, false), new AdvanceCmd(242), new ClaimCmd(0, true), new AdvanceCmd(8000), new FaultCmd(1, { kind: 'error-before', method: 'GET', delayMs: 20000 }),
      new FenceCmd(0), new OtherCmd('edit', 1), new FenceCmd(1), new AdvanceCmd(1000), new FenceCmd(1), new AdvanceCmd(8000)
    ]
  },
  {
    why: 'the breaker passes a fence, a maintainer deletes its claim, the broken holder (renewing, its fence right before the break) reports a failure (found on the unfixed code with seed 140346661)',
    lagMax: 200,
    latencyMax: 20,
    seed: 1,
    cmds: () => [
      new ClaimCmd(2, false), new AdvanceCmd(5999), new ClaimCmd(0, false), new FenceCmd(2), new ClaimCmd(1, true), new AdvanceCmd(20_492), new FenceCmd(1),
      new OtherCmd('delete', 1), new ReportCmd(2), new AdvanceCmd(1000)
    ]
  },
  {
    why: 'the broken holder is paused (no watch reads) while the breaker passes and a maintainer deletes its claim; after the pause it fences at once',
    lagMax: 800,
    latencyMax: 0,
    seed: 1,
    cmds: () => [
      new ClaimCmd(2, false), new AdvanceCmd(500), new CrashCmd(2, 9500), new ClaimCmd(1, true), new AdvanceCmd(3500), new FenceCmd(1), new AdvanceCmd(4600),
      new OtherCmd('delete', 1), new AdvanceCmd(1500), new FenceCmd(2), new AdvanceCmd(9000)
    ]
  },
  {
    why: 'the same with the breaker\'s marker edited away, and the broken holder publishing after its pause',
    lagMax: 400,
    latencyMax: 0,
    seed: 1,
    cmds: () => [
      new ClaimCmd(2, false), new AdvanceCmd(500), new CrashCmd(2, 9500), new ClaimCmd(0, true), new AdvanceCmd(3500), new FenceCmd(0), new AdvanceCmd(4600),
      new OtherCmd('edit', 1), new AdvanceCmd(1500), new PublishCmd(2), new AdvanceCmd(9000)
    ]
  }
]

describe('counter-examples found by the model-based test', () => {
  for (const f of FOUND) {
    it(f.why, async () => {
      await runModel(f.lagMax, f.latencyMax, f.seed, f.cmds())
    })
  }
})

