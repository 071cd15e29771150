/**
 * The report: a pure function of the recorded events, the forge's final state and the log
 * checks. Nothing here does I/O, so every figure is property-tested (metrics.test.ts).
 */
import type { ForgeFacts, LogCheck, SimEvent } from './events.js'
import { distribution, type Distribution } from './percentile.js'
import type { Scenario } from './scenario.js'

export interface Recovery {
  fault: string
  detail: string
  /** ms from the fault (or its end) to the mesh making progress again; null: it never did. */
  ms: number | null
}

export interface Check {
  name: string
  ok: boolean
  detail: string
}

export interface TaskTimeline {
  task: string
  seen: number | null
  claims: Array<{ peer: string, t: number, won: boolean }>
  runs: Array<{ peer: string, start: number, end: number | null, ok: boolean | null }>
  published: Array<{ peer: string, t: number, outcome: 'done' | 'failed' }>
  outcome: 'done' | 'failed' | 'lost'
}

export interface Report {
  scenario: string
  seed: number
  transport: string
  peers: number
  wall_ms: number
  tasks_total: number
  tasks_done: number
  tasks_failed: number
  duplicate_executions: number
  duplicate_publications: number
  lost_tasks: number
  claim_decision_ms: Distribution
  claim_latency_ms: Distribution
  recovery_ms: Recovery[]
  tasks_per_second: number | null
  github_requests: { total: number, per_task: number | null, per_task_scoped: number | null, idle_per_repo_per_hour: number | null }
  peak_rss_mb: number
  logs_verified: boolean
  logs: LogCheck[]
  invariants: Check[]
  goals: Check[]
  ok: boolean
  faults: Array<{ fault: string, detail: string, start: number, end: number | null, peer?: string }>
  tasks: TaskTimeline[]
  /** The raw latencies behind the distributions, for the HTML report's charts. */
  samples: { claim_decision_ms: number[], claim_latency_ms: number[] }
}

export interface ReportInput {
  scenario: Pick<Scenario, 'name' | 'seed' | 'transport' | 'peers' | 'goals'>
  events: readonly SimEvent[]
  facts: ForgeFacts
  logs: readonly LogCheck[]
  peakRssMb: number
  wallMs: number
  /** Where a token string was found (log or report names); empty: none. */
  secretsFound: readonly string[]
}

const round = (n: number, digits = 2): number => Number(n.toFixed(digits))

function timelines (tasks: readonly string[], events: readonly SimEvent[], facts: ForgeFacts): TaskTimeline[] {
  const byTask = new Map<string, TaskTimeline>()
  for (const task of tasks) byTask.set(task, { task, seen: null, claims: [], runs: [], published: [], outcome: 'lost' })
  for (const e of events) {
    if (!('task' in e) || e.task === undefined || e.kind === 'fault_start') continue
    const tl = byTask.get(e.task)
    if (tl === undefined) continue
    switch (e.kind) {
      case 'task_seen': if (tl.seen === null) tl.seen = e.t; break
      case 'claim_posted': tl.claims.push({ peer: e.peer, t: e.t, won: false }); break
      case 'claim_won': {
        const c = [...tl.claims].reverse().find((x) => x.peer === e.peer && !x.won)
        if (c !== undefined) c.won = true
        else tl.claims.push({ peer: e.peer, t: e.t, won: true })
        break
      }
      case 'agent_started': tl.runs.push({ peer: e.peer, start: e.t, end: null, ok: null }); break
      case 'agent_finished': {
        const r = [...tl.runs].reverse().find((x) => x.peer === e.peer && x.end === null)
        if (r !== undefined) { r.end = e.t; r.ok = e.ok }
        break
      }
      case 'published': tl.published.push({ peer: e.peer, t: e.t, outcome: e.outcome }); break
      default: break
    }
  }
  for (const tl of byTask.values()) {
    const p = facts.publications[tl.task] ?? { pulls: 0, issues: 0, reports: 0 }
    tl.outcome = p.pulls + p.issues > 0 ? 'done' : p.reports > 0 ? 'failed' : 'lost'
  }
  return [...byTask.values()]
}

function firstAfter (events: readonly SimEvent[], t: number, match: (e: SimEvent) => boolean): SimEvent | undefined {
  return events.find((e) => e.t >= t && match(e))
}

function recoveries (events: readonly SimEvent[], tasks: readonly TaskTimeline[]): { recoveries: Recovery[], faults: Report['faults'] } {
  const out: Recovery[] = []
  const faults: Report['faults'] = []
  for (const start of events) {
    if (start.kind !== 'fault_start') continue
    const end = events.find((e) => e.kind === 'fault_end' && e.fault === start.fault && e.detail === start.detail && e.t >= start.t)
    faults.push({ fault: start.fault, detail: start.detail, start: start.t, end: end?.t ?? null, ...(start.peer !== undefined ? { peer: start.peer } : {}) })
    if (start.kind === 'fault_start' && start.fault === 'kill') {
      // The killed peer's task running again on another peer.
      const again = start.task === undefined
        ? undefined
        : firstAfter(events, start.t, (e) => e.kind === 'agent_started' && e.task === start.task && e.peer !== start.peer)
      out.push({ fault: start.fault, detail: start.detail, ms: again === undefined ? null : again.t - start.t })
      continue
    }
    if (end === undefined) continue // persistent for the whole run: nothing to recover from
    // Progress again: the first task published after the fault ended; 0 if nothing was left to do.
    const open = tasks.some((tl) => tl.published.length === 0 || tl.published.every((p) => p.t > end.t))
    const next = firstAfter(events, end.t, (e) => e.kind === 'published')
    out.push({ fault: start.fault, detail: start.detail, ms: next !== undefined ? next.t - end.t : open ? null : 0 })
  }
  return { recoveries: out, faults }
}

export function buildReport (input: ReportInput): Report {
  const { events, facts } = input
  const sorted = [...events].sort((a, b) => a.t - b.t)
  const tasks = timelines(facts.tasks, sorted, facts)
  const wonFirst = new Map<string, number>()
  for (const e of sorted) if (e.kind === 'claim_won' && !wonFirst.has(e.task)) wonFirst.set(e.task, e.t)
  const decision: number[] = []
  const latency: number[] = []
  for (const tl of tasks) {
    if (tl.seen === null) continue
    const seen = tl.seen
    const posted = tl.claims.filter((c) => c.t >= seen).map((c) => c.t)
    if (posted.length > 0) decision.push(Math.min(...posted) - seen)
    const wonAt = wonFirst.get(tl.task)
    if (wonAt !== undefined && wonAt >= seen) latency.push(wonAt - seen)
  }
  const done = tasks.filter((t) => t.outcome === 'done').length
  const failed = tasks.filter((t) => t.outcome === 'failed').length
  const lost = tasks.filter((t) => t.outcome === 'lost').length
  const duplicateExecutions = tasks.filter((t) => t.published.length > 1).length
  const duplicatePublications = facts.tasks.filter((task) => {
    const p = facts.publications[task]
    return p !== undefined && p.pulls + p.issues + p.reports > 1
  }).length
  const { recoveries: recovery, faults } = recoveries(sorted, tasks)
  const ended = tasks.flatMap((t) => t.published.map((p) => p.t))
  const seen = tasks.flatMap((t) => (t.seen === null ? [] : [t.seen]))
  const span = ended.length > 0 && seen.length > 0 ? Math.max(...ended) - Math.min(...seen) : 0
  const scoped = Object.values(facts.requests.perTaskScope)
  const total = facts.requests.total
  const logsVerified = input.logs.length > 0 && input.logs.every((l) => l.ok)

  const invariants: Check[] = [
    { name: 'no duplicate execution', ok: duplicateExecutions === 0, detail: `${duplicateExecutions} task(s) ran to publication more than once` },
    { name: 'no duplicate publication', ok: duplicatePublications === 0, detail: `${duplicatePublications} task(s) with more than one PR/issue/report on the forge` },
    { name: 'no lost task', ok: lost === 0, detail: `${lost} task(s) never published` },
    { name: 'ineligible issues untouched', ok: (facts.ineligible ?? []).every((i) => i.touched === 0), detail: (facts.ineligible ?? []).filter((i) => i.touched > 0).map((i) => `#${i.issue}: ${i.touched} claim(s)/publication(s)`).join('; ') || `${(facts.ineligible ?? []).length} left alone` },
    { name: 'every log verifies', ok: logsVerified, detail: input.logs.filter((l) => !l.ok).map((l) => `${l.peer}: ${l.error ?? 'failed'}`).join('; ') || `${input.logs.length} log(s) verified` },
    { name: 'no token in logs or report', ok: input.secretsFound.length === 0, detail: input.secretsFound.length === 0 ? 'none found' : `found in ${input.secretsFound.join(', ')}` }
  ]
  // Per task that ended: a run that loses tasks does not look cheaper for it.
  const perTask = done + failed > 0 ? total / (done + failed) : null
  const decisionDist = distribution(decision)
  const goals: Check[] = []
  const g = input.scenario.goals
  if (g.claimDecisionP99Ms !== undefined) {
    goals.push({ name: `claim decision p99 <= ${g.claimDecisionP99Ms} ms`, ok: decisionDist.p99 !== null && decisionDist.p99 <= g.claimDecisionP99Ms, detail: `p99 ${decisionDist.p99 ?? 'n/a'} ms` })
  }
  if (g.recoveryMs !== undefined) {
    // A kill that never happened (no task started) fails the goal too.
    const kills = recovery.filter((r) => r.fault === 'kill')
    goals.push({
      name: `recovery <= ${g.recoveryMs} ms`,
      ok: kills.length > 0 && kills.every((r) => r.ms !== null && r.ms <= g.recoveryMs!),
      detail: kills.map((r) => (r.ms === null ? 'never' : `${r.ms} ms`)).join(', ') || 'no kill happened'
    })
  }
  if (g.requestsPerTask !== undefined) {
    goals.push({ name: `requests per task <= ${g.requestsPerTask}`, ok: perTask !== null && perTask <= g.requestsPerTask, detail: `${perTask === null ? 'n/a' : round(perTask)} per task` })
  }
  if (g.wallMs !== undefined) {
    goals.push({ name: `run <= ${g.wallMs} ms`, ok: input.wallMs <= g.wallMs, detail: `${Math.round(input.wallMs)} ms` })
  }
  return {
    scenario: input.scenario.name,
    seed: input.scenario.seed,
    transport: input.scenario.transport,
    peers: input.scenario.peers,
    wall_ms: Math.round(input.wallMs),
    tasks_total: facts.tasks.length,
    tasks_done: done,
    tasks_failed: failed,
    duplicate_executions: duplicateExecutions,
    duplicate_publications: duplicatePublications,
    lost_tasks: lost,
    claim_decision_ms: decisionDist,
    claim_latency_ms: distribution(latency),
    recovery_ms: recovery,
    tasks_per_second: span > 0 ? round((done + failed) / (span / 1000)) : null,
    github_requests: {
      total,
      per_task: perTask === null ? null : round(perTask),
      per_task_scoped: scoped.length > 0 ? round(scoped.reduce((a, b) => a + b, 0) / scoped.length) : null,
      idle_per_repo_per_hour: facts.requests.idlePerRepoPerHour === undefined ? null : Math.round(facts.requests.idlePerRepoPerHour)
    },
    peak_rss_mb: round(input.peakRssMb, 1),
    logs_verified: logsVerified,
    logs: [...input.logs],
    invariants,
    goals,
    ok: invariants.every((c) => c.ok) && goals.every((c) => c.ok),
    faults,
    tasks,
    samples: { claim_decision_ms: decision, claim_latency_ms: latency }
  }
}
