import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ApiError } from './errors.js'
import { FaultInjector, seededRandom } from './faults.js'
import { ForgeState } from './state.js'
import type { Permission, RepoRecord } from './state.js'

const LOGINS = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9', 'u10', 'u11', 'r0', 'r1', 't0', 'ghost'] as const
const PERMS: Record<string, Permission> = Object.fromEntries([
  ...Array.from({ length: 12 }, (_, i) => [`u${i}`, 'write'] as const),
  ['r0', 'read'], ['r1', 'read'], ['t0', 'triage']
])
const LABELS = ['a', 'b', 'c', 'D'] as const

function world (clock: { t: number }): { state: ForgeState, repo: RepoRecord } {
  const state = new ForgeState({ now: () => clock.t })
  for (const l of LOGINS) if (l !== 'ghost') state.addUser({ login: l, token: `tok-${l}` })
  state.addUser({ login: 'owner' })
  const repo = state.createRepo({ owner: 'owner', name: 'r', permissions: PERMS, labels: [...LABELS] })
  repo.branches.set('main', 'a'.repeat(40))
  return { state, repo }
}

const login = fc.constantFrom(...LOGINS)
const actor = fc.constantFrom('owner', 'u0', 't0', 'r0')

type Op =
  | { kind: 'issue', actor: string, labels: string[], assignees: string[] }
  | { kind: 'pull', ref: string }
  | { kind: 'add', n: number, actor: string, logins: string[] }
  | { kind: 'remove', n: number, actor: string, logins: string[] }
  | { kind: 'patch', n: number, actor: string, assignees?: string[], labels?: string[], state?: 'open' | 'closed' }
  | { kind: 'comment', n: number, actor: string }
  | { kind: 'delete-comment', pick: number, actor: string }
  | { kind: 'tick', ms: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('issue' as const), actor, labels: fc.array(fc.constantFrom(...LABELS, 'new'), { maxLength: 3 }), assignees: fc.array(login, { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('pull' as const), ref: fc.constantFrom('f1', 'f2', 'f3') }),
  fc.record({ kind: fc.constant('add' as const), n: fc.nat(30), actor, logins: fc.array(login, { maxLength: 12 }) }),
  fc.record({ kind: fc.constant('remove' as const), n: fc.nat(30), actor, logins: fc.array(login, { maxLength: 4 }) }),
  fc.record({
    kind: fc.constant('patch' as const), n: fc.nat(30), actor,
    assignees: fc.option(fc.array(login, { maxLength: 12 }), { nil: undefined }),
    labels: fc.option(fc.array(fc.constantFrom(...LABELS), { maxLength: 4 }), { nil: undefined }),
    state: fc.option(fc.constantFrom('open' as const, 'closed' as const), { nil: undefined })
  }),
  fc.record({ kind: fc.constant('comment' as const), n: fc.nat(30), actor }),
  fc.record({ kind: fc.constant('delete-comment' as const), pick: fc.nat(100), actor }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 3000 }) })
)

function apply (state: ForgeState, repo: RepoRecord, o: Op, clock: { t: number }): void {
  const n = (x: number): number => repo.nextNumber > 1 ? (x % (repo.nextNumber - 1)) + 1 : 1
  try {
    switch (o.kind) {
      case 'issue': state.createIssue(repo, o.actor, { title: 't', labels: o.labels, assignees: o.assignees }); break
      case 'pull': state.createPull(repo, 'u0', { title: 'p', body: null, headRepo: repo, headRef: o.ref, headSha: 'b'.repeat(40), baseRef: 'main', baseSha: 'a'.repeat(40), draft: false, maintainerCanModify: true }); break
      case 'add': state.addAssignees(repo, o.actor, n(o.n), o.logins); break
      case 'remove': state.removeAssignees(repo, o.actor, n(o.n), o.logins); break
      case 'patch': state.updateIssue(repo, o.actor, n(o.n), { assignees: o.assignees, labels: o.labels, state: o.state }); break
      case 'comment': state.createComment(repo, o.actor, n(o.n), 'c'); break
      case 'delete-comment': {
        const live = [...repo.comments.values()].filter((c) => !c.deleted)
        const c = live[o.pick % Math.max(1, live.length)]
        if (c != null) state.deleteComment(repo, o.actor, c.id)
        break
      }
      case 'tick': clock.t += o.ms; break
    }
  } catch (err) {
    // Refusals are part of the model (403, 404, 422); anything else is a bug.
    if (!(err instanceof ApiError)) throw err
    expect([403, 404, 422]).toContain(err.status)
  }
}

describe('state model properties', () => {
  it('keeps GitHub\'s invariants under any sequence of operations', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const clock = { t: Date.UTC(2030, 0, 1) }
      const { state, repo } = world(clock)
      state.createIssue(repo, 'owner', { title: 'seed', assignees: ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8'] })
      for (const o of ops) apply(state, repo, o, clock)
      const issues = [...repo.issues.values()]
      // Issues and pull requests share one gap-free number sequence.
      expect(issues.map((i) => i.number).sort((a, b) => a - b)).toEqual(Array.from({ length: issues.length }, (_, i) => i + 1))
      for (const i of issues) {
        // Assignees: unique, at most 10, all with push access.
        expect(new Set(i.assignees.map((a) => a.toLowerCase())).size).toBe(i.assignees.length)
        expect(i.assignees.length).toBeLessThanOrEqual(10)
        for (const a of i.assignees) expect(state.assignable(repo, a)).toBe(true)
        expect(new Set(i.labels).size).toBe(i.labels.length)
        // The comment counter matches the live comments.
        expect(i.comments).toBe([...repo.comments.values()].filter((c) => c.issueNumber === i.number && !c.deleted).length)
        expect(i.updatedAt).toBeGreaterThanOrEqual(i.createdAt)
        expect(i.closedAt == null).toBe(i.state === 'open')
      }
      // Only one open pull request per head and base.
      const open = issues.filter((i) => i.pull != null && i.state === 'open').map((i) => `${i.pull?.headRef}->${i.pull?.baseRef}`)
      expect(new Set(open).size).toBe(open.length)
      // Comment ids increase with creation.
      const comments = [...repo.comments.values()]
      for (let k = 1; k < comments.length; k++) {
        expect(comments[k]?.id).toBeGreaterThan(comments[k - 1]?.id ?? Infinity)
        expect(comments[k]?.createdAt).toBeGreaterThanOrEqual(comments[k - 1]?.createdAt ?? Infinity)
      }
      // Lists include pull requests, and `kind` separates them.
      const all = state.listIssues(repo, { state: 'all' })
      expect(all).toHaveLength(issues.length)
      expect(state.listIssues(repo, { state: 'all', kind: 'pull' }).length + state.listIssues(repo, { state: 'all', kind: 'issue' }).length).toBe(issues.length)
    }), { numRuns: 150 })
  })

  it('adds assignees as the union with the assignable newcomers, capped at 10', () => {
    fc.assert(fc.property(fc.array(login, { maxLength: 12 }), fc.array(login, { maxLength: 14 }), (first, second) => {
      const clock = { t: 0 }
      const { state, repo } = world(clock)
      const n = state.createIssue(repo, 'owner', { title: 't', assignees: first }).number
      const before = [...state.issue(repo, n).assignees]
      const after = state.addAssignees(repo, 'owner', n, second).assignees
      const model = [...before]
      for (const l of second) if (model.length < 10 && state.assignable(repo, l) && !model.includes(l)) model.push(l)
      expect(after).toEqual(model)
      // A read user changes nothing, and is not told (no error).
      expect(state.addAssignees(repo, 'r0', n, ['u11']).assignees).toEqual(model)
    }))
  })

  it('filters by labels (all must match, any case), assignee and since like a straightforward model', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ labels: fc.subarray([...LABELS]), assignees: fc.subarray(['u0', 'u1']), dt: fc.integer({ min: 0, max: 5000 }) }), { maxLength: 20 }),
      fc.subarray([...LABELS]), fc.constantFrom(undefined, 'none', '*', 'u0', 'u1'), fc.integer({ min: 0, max: 60_000 }),
      (specs, want, assignee, sinceOffset) => {
        const clock = { t: Date.UTC(2030, 0, 1) }
        const start = clock.t
        const { state, repo } = world(clock)
        const made = specs.map((s) => {
          clock.t += s.dt
          return state.createIssue(repo, 'owner', { title: 't', labels: s.labels, assignees: s.assignees })
        })
        const since = start + sinceOffset
        const got = state.listIssues(repo, { labels: want.map((l) => l.toUpperCase()), ...(assignee != null ? { assignee } : {}), since, direction: 'asc' }).map((i) => i.number)
        const expected = made.filter((i, k) => {
          const spec = specs[k]
          if (spec == null) return false
          if (!want.every((w) => spec.labels.includes(w))) return false
          if (assignee === 'none' && spec.assignees.length > 0) return false
          if (assignee === '*' && spec.assignees.length === 0) return false
          if ((assignee === 'u0' || assignee === 'u1') && !spec.assignees.includes(assignee)) return false
          return Math.floor(i.updatedAt / 1000) >= Math.floor(since / 1000)
        }).map((i) => i.number)
        expect(got).toEqual(expected)
      }))
  })

  it('lists viewed at an earlier time show the state of that time (list lag)', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const clock = { t: Date.UTC(2030, 0, 1) }
      const { state, repo } = world(clock)
      const snapshots: Array<{ at: number, issues: string, comments: string }> = []
      const view = (at?: number): { issues: string, comments: string } => ({
        issues: JSON.stringify(state.listIssues(repo, { state: 'all' }, at).map((i) => [i.number, i.state, i.assignees, i.labels, i.comments])),
        comments: JSON.stringify(state.listComments(repo, undefined, {}, at).map((c) => [c.id, c.body]))
      })
      for (const o of ops) {
        apply(state, repo, o, clock)
        // Time moves on after every write, so a snapshot is the state "as of" a distinct instant.
        snapshots.push({ at: clock.t, ...view() })
        clock.t += 1
      }
      for (const s of snapshots) {
        const v = view(s.at)
        expect(v.issues).toBe(s.issues)
        expect(v.comments).toBe(s.comments)
      }
    }), { numRuns: 100 })
  })

  it('forking twice returns the same fork', () => {
    const clock = { t: 0 }
    const { state, repo } = world(clock)
    const a = state.fork(repo, 'u1')
    const b = state.fork(repo, 'u1')
    expect(a.created).toBe(true)
    expect(b.created).toBe(false)
    expect(b.fork).toBe(a.fork)
    expect(a.fork.gitReady).toBe(false)
    expect(state.fork(a.fork, 'u1').fork).toBe(a.fork)
  })
})

describe('fault injector', () => {
  it('replays the same decisions from the same seed', () => {
    fc.assert(fc.property(fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (seed, errorRate, rateLimitRate) => {
      const draw = (): unknown[] => {
        const f = new FaultInjector({ errorRate, rateLimitRate, latencyMs: [0, 100] }, seededRandom(seed))
        return Array.from({ length: 20 }, () => f.decide())
      }
      expect(draw()).toEqual(draw())
    }))
  })

  it('draws errors at about the configured rate', () => {
    const f = new FaultInjector({ errorRate: 0.2 }, seededRandom(99))
    const errors = Array.from({ length: 5000 }, () => f.decide()).filter((d) => d.kind === 'error').length
    expect(errors / 5000).toBeGreaterThan(0.17)
    expect(errors / 5000).toBeLessThan(0.23)
  })

  it('merges a new configuration into the one in force: {} changes nothing, 0 or undefined lifts a fault', () => {
    const f = new FaultInjector({ errorRate: 1, latencyMs: 5 }, seededRandom(1))
    f.configure({})
    expect(f.decide()).toMatchObject({ kind: 'error', latencyMs: 5 })
    f.configure({ errorRate: 0 })
    expect(f.decide()).toMatchObject({ kind: 'none', latencyMs: 5 })
    f.configure({ latencyMs: undefined, rateLimitRate: 1 })
    expect(f.decide()).toEqual({ kind: 'rate-limit', latencyMs: 0 })
  })
})
