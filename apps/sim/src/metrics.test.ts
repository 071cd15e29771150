import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ForgeFacts, SimEvent } from './events.js'
import { buildReport, type ReportInput } from './metrics.js'

const scenario = { name: 't', seed: 1, transport: 'memory' as const, peers: 3, goals: {} }

function input (events: SimEvent[], facts: Partial<ForgeFacts> & Pick<ForgeFacts, 'tasks' | 'publications'>, more: Partial<ReportInput> = {}): ReportInput {
  return {
    scenario,
    events,
    facts: { requests: { total: 0, perTaskScope: {}, idlePerRepoPerHour: undefined }, ...facts },
    logs: [{ peer: 'a', ok: true, entries: 3 }],
    peakRssMb: 100,
    wallMs: 1000,
    secretsFound: [],
    ...more
  }
}

/** A task's life as a generator draws it: seen, claims, runs, publications. */
const taskLife = fc.record({
  seenAt: fc.integer({ min: 0, max: 10_000 }),
  decideMs: fc.integer({ min: 0, max: 500 }),
  settleMs: fc.integer({ min: 0, max: 3000 }),
  publishedBy: fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }),
  forge: fc.record({ pulls: fc.nat(2), issues: fc.nat(1), reports: fc.nat(1) })
})

function lifeEvents (task: string, l: { seenAt: number, decideMs: number, settleMs: number, publishedBy: string[] }): SimEvent[] {
  const ev: SimEvent[] = [
    { t: l.seenAt, kind: 'task_seen', task, peer: 'w' },
    { t: l.seenAt + l.decideMs, kind: 'claim_posted', task, peer: 'a' },
    { t: l.seenAt + l.decideMs + l.settleMs, kind: 'claim_won', task, peer: 'a', attempt: 1 }
  ]
  l.publishedBy.forEach((peer, i) => {
    ev.push({ t: l.seenAt + 5000 + i, kind: 'agent_started', task, peer })
    ev.push({ t: l.seenAt + 6000 + i, kind: 'agent_finished', task, peer, ok: true })
    ev.push({ t: l.seenAt + 7000 + i, kind: 'published', task, peer, outcome: 'done', url: `u${i}` })
  })
  return ev
}

describe('buildReport', () => {
  it('counts agree with a simple model of the forge and the events', () => {
    fc.assert(fc.property(fc.array(taskLife, { maxLength: 30 }), (lives) => {
      const tasks = lives.map((_, i) => `o/r#${i + 1}`)
      const events = lives.flatMap((l, i) => lifeEvents(tasks[i]!, l))
      const publications = Object.fromEntries(lives.map((l, i) => [tasks[i]!, l.forge]))
      const r = buildReport(input(events, { tasks, publications }))
      expect(r.tasks_total).toBe(lives.length)
      expect(r.tasks_done + r.tasks_failed + r.lost_tasks).toBe(r.tasks_total)
      expect(r.tasks_done).toBe(lives.filter((l) => l.forge.pulls + l.forge.issues > 0).length)
      expect(r.lost_tasks).toBe(lives.filter((l) => l.forge.pulls + l.forge.issues + l.forge.reports === 0).length)
      expect(r.duplicate_publications).toBe(lives.filter((l) => l.forge.pulls + l.forge.issues + l.forge.reports > 1).length)
      expect(r.duplicate_executions).toBe(lives.filter((l) => l.publishedBy.length > 1).length)
      expect(r.claim_decision_ms.count).toBe(lives.length)
      expect(r.claim_latency_ms.count).toBe(lives.length)
      if (lives.length > 0) {
        expect(r.claim_decision_ms.max).toBe(Math.max(...lives.map((l) => l.decideMs)))
        expect(r.claim_latency_ms.max).toBe(Math.max(...lives.map((l) => l.decideMs + l.settleMs)))
        expect(r.claim_decision_ms.p50!).toBeLessThanOrEqual(r.claim_decision_ms.p99!)
      }
      const bad = r.duplicate_executions + r.duplicate_publications + r.lost_tasks > 0
      expect(r.ok).toBe(!bad)
      for (const c of r.invariants) if (!c.ok) expect(c.name).toMatch(/duplicate|lost/)
    }))
  })

  it('a token found anywhere, or a log that fails, fails the run and is named', () => {
    const facts = { tasks: ['o/r#1'], publications: { 'o/r#1': { pulls: 1, issues: 0, reports: 0 } } }
    const clean = buildReport(input([], facts))
    expect(clean.ok).toBe(true)
    const leaked = buildReport(input([], facts, { secretsFound: ['peer-2.log'] }))
    expect(leaked.ok).toBe(false)
    expect(leaked.invariants.find((c) => !c.ok)).toMatchObject({ name: 'no token in logs or report', detail: 'found in peer-2.log' })
    const forged = buildReport(input([], facts, { logs: [{ peer: 'b', ok: false, entries: 2, error: 'entry 1: signature' }] }))
    expect(forged.logs_verified).toBe(false)
    expect(forged.invariants.find((c) => !c.ok)?.detail).toContain('b: entry 1: signature')
    expect(buildReport(input([], facts, { logs: [] })).logs_verified).toBe(false)
  })

  it('measures recovery: a kill from the kill to the task running elsewhere; a window from its end to the next publication', () => {
    const events: SimEvent[] = [
      { t: 0, kind: 'task_seen', task: 'o/r#1', peer: 'a' },
      { t: 0, kind: 'task_seen', task: 'o/r#2', peer: 'a' },
      { t: 100, kind: 'agent_started', task: 'o/r#1', peer: 'b' },
      { t: 1000, kind: 'fault_start', fault: 'kill', detail: 'b', peer: 'b', task: 'o/r#1' },
      { t: 1500, kind: 'fault_start', fault: 'partition', detail: 'a,b|c' },
      { t: 2500, kind: 'fault_end', fault: 'partition', detail: 'a,b|c' },
      { t: 4000, kind: 'published', task: 'o/r#2', peer: 'c', outcome: 'done', url: 'x' },
      { t: 9000, kind: 'agent_started', task: 'o/r#1', peer: 'c' },
      { t: 9500, kind: 'published', task: 'o/r#1', peer: 'c', outcome: 'done', url: 'y' }
    ]
    const facts = { tasks: ['o/r#1', 'o/r#2'], publications: { 'o/r#1': { pulls: 1, issues: 0, reports: 0 }, 'o/r#2': { pulls: 1, issues: 0, reports: 0 } } }
    const r = buildReport({ ...input(events, facts), scenario: { ...scenario, goals: { recoveryMs: 7000 } } })
    expect(r.recovery_ms).toEqual([
      { fault: 'kill', detail: 'b', ms: 8000 },
      { fault: 'partition', detail: 'a,b|c', ms: 1500 }
    ])
    expect(r.goals).toEqual([{ name: 'recovery <= 7000 ms', ok: false, detail: '8000 ms' }])
    expect(r.ok).toBe(false)
    expect(r.faults.map((f) => f.end)).toEqual([null, 2500])
    expect(r.tasks_per_second).toBeCloseTo(2 / 9.5)
  })

  it('a claim or publication on an issue no peer may take fails the run', () => {
    const facts = { tasks: ['o/r#1'], publications: { 'o/r#1': { pulls: 1, issues: 0, reports: 0 } } }
    expect(buildReport(input([], { ...facts, ineligible: [{ issue: 2, touched: 0 }, { issue: 3, touched: 0 }] })).ok).toBe(true)
    const r = buildReport(input([], { ...facts, ineligible: [{ issue: 2, touched: 0 }, { issue: 3, touched: 2 }] }))
    expect(r.ok).toBe(false)
    expect(r.invariants.find((c) => !c.ok)).toMatchObject({ name: 'ineligible issues untouched', detail: '#3: 2 claim(s)/publication(s)' })
  })

  it('counts requests per task over every counted request', () => {
    const one = { pulls: 1, issues: 0, reports: 0 }
    const facts = { tasks: ['o/r#1', 'o/r#2', 'o/r#3'], publications: { 'o/r#1': one, 'o/r#2': { ...one, pulls: 0, reports: 1 } }, requests: { total: 30, perTaskScope: { 'task:o/r#1': 6, 'task:o/r#2': 8 }, idlePerRepoPerHour: 12.4 } }
    const r = buildReport({ ...input([], facts), scenario: { ...scenario, goals: { requestsPerTask: 8 } } })
    // Over the tasks that ended (two of three): a lost task does not make the others look cheaper.
    expect(r.github_requests).toEqual({ total: 30, per_task: 15, per_task_scoped: 7, idle_per_repo_per_hour: 12 })
    expect(r.goals[0]!.ok).toBe(false)
    expect(buildReport({ ...input([], { ...facts, publications: {} }) }).github_requests.per_task).toBeNull()
  })
})
