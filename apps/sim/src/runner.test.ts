import { describe, expect, it } from 'vitest'
import type { SimEvent } from './events.js'
import { fakeNodeFactory } from './fake-node.test.util.js'
import { runScenario } from './runner.js'
import { parseScenario } from './scenario.js'

const scenario = (extra: string, agent = '{ kind: scripted, workMs: [20, 60] }'): ReturnType<typeof parseScenario> =>
  parseScenario(`name: t\npeers: 3\nissues: 5\nagent: ${agent}\ndurationMs: 20000\n${extra}`)

describe('runScenario (with a stand-in node)', () => {
  it('seeds the forge, runs every task to a publication and reports it', async () => {
    const events: SimEvent[] = []
    const { report } = await runScenario({ scenario: scenario(''), nodeFactory: fakeNodeFactory(3), onEvent: (e) => events.push(e), idleWindowMs: 300, quietMs: 100 })
    expect(report).toMatchObject({ tasks_total: 5, tasks_done: 5, lost_tasks: 0, duplicate_publications: 0, duplicate_executions: 0, logs_verified: true, ok: true })
    expect(events.filter((e) => e.kind === 'peer_up')).toHaveLength(3)
    expect(events.filter((e) => e.kind === 'agent_started')).toHaveLength(5)
    expect(report.claim_decision_ms.count).toBe(5)
    expect(report.github_requests.total).toBeGreaterThan(5 * 2)
    expect(report.github_requests.idle_per_repo_per_hour).toBeGreaterThan(0)
    expect(report.peak_rss_mb).toBeGreaterThan(10)
  })

  it('kills the holder of the first task to start; the task runs again elsewhere and recovery is measured', async () => {
    const { report, events } = await runScenario({
      scenario: scenario('faults: [{ kind: kill, nthTask: 1 }]\n', '{ kind: scripted, workMs: 600 }'),
      nodeFactory: fakeNodeFactory(3),
      idleWindowMs: 0,
      quietMs: 100
    })
    const kill = events.find((e) => e.kind === 'fault_start' && e.fault === 'kill')
    expect(kill).toBeDefined()
    expect(events.some((e) => e.kind === 'peer_down' && e.how === 'killed')).toBe(true)
    expect(report.recovery_ms).toHaveLength(1)
    expect(report.recovery_ms[0]!.ms).not.toBeNull()
    expect(report).toMatchObject({ tasks_done: 5, lost_tasks: 0, ok: true })
    expect(report.logs).toHaveLength(2)
  })

  it('failing agents end their tasks failed, once each', async () => {
    const { report } = await runScenario({ scenario: scenario('', '{ kind: scripted, workMs: 10, failRate: 1 }'), nodeFactory: fakeNodeFactory(3), idleWindowMs: 0, quietMs: 100 })
    expect(report).toMatchObject({ tasks_done: 0, tasks_failed: 5, lost_tasks: 0, ok: true })
  })

  it('a token in a node log fails the run, named', async () => {
    const { report } = await runScenario({ scenario: scenario(''), nodeFactory: fakeNodeFactory(3, { leakToken: true }), idleWindowMs: 0, quietMs: 100 })
    expect(report.ok).toBe(false)
    expect(report.invariants.find((c) => c.name === 'no token in logs or report')).toMatchObject({ ok: false, detail: 'found in peer-0 log, peer-1 log, peer-2 log' })
  })

  it('refuses a real agent CLI on daemon peers, and a CLI it does not run, naming the option', async () => {
    await expect(runScenario({ scenario: scenario('transport: tcp\n', '{ kind: cli }'), nodeFactory: fakeNodeFactory(3) })).rejects.toThrow(/^agent: cli:claude runs with transport memory/)
    await expect(runScenario({ scenario: scenario('', '{ kind: cli, cli: gemini }'), nodeFactory: fakeNodeFactory(3) })).rejects.toThrow(/^agent: cli:gemini is not one the sim runs/)
  })

  it('tasks still open at the end of the duration are lost, and fail the run', async () => {
    const { report } = await runScenario({
      scenario: parseScenario('name: t\npeers: 2\nissues: 3\nagent: { kind: scripted, workMs: 60000 }\ndurationMs: 1500\n'),
      nodeFactory: fakeNodeFactory(2),
      idleWindowMs: 0,
      quietMs: 0
    })
    expect(report.lost_tasks).toBe(3)
    expect(report.ok).toBe(false)
  })
})
