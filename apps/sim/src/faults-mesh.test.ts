// The test command's short run of each fault that hits the mesh or a peer, with the daemon's
// own assembly (apps/peer's createNode) in process. Each ends with every task done exactly once.
import { describe, expect, it } from 'vitest'
import { memoryNodeFactory } from './peer-node.js'
import { runScenario } from './runner.js'
import { shortScenario } from './scenarios.test.util.js'

const run = async (name: string, overrides = {}): Promise<Awaited<ReturnType<typeof runScenario>>['report']> => {
  const { report } = await runScenario({ scenario: await shortScenario(name, overrides), nodeFactory: memoryNodeFactory(), idleWindowMs: 0, quietMs: 500 })
  if (!report.ok) console.error(JSON.stringify({ ...report, tasks: undefined, samples: undefined }, null, 2))
  return report
}

const once = (r: Awaited<ReturnType<typeof run>>): void => {
  expect(r.invariants.filter((c) => !c.ok)).toEqual([])
  expect(r.tasks_done + r.tasks_failed).toBe(r.tasks_total)
}

describe('fault scenarios (short)', () => {
  it('default: every task done once, logs verified', async () => {
    const r = await run('default')
    once(r)
    expect(r.tasks_done).toBe(3)
    expect(r.logs_verified).toBe(true)
    expect(r.claim_decision_ms.count).toBe(3)
  }, 150_000)

  it('peer killed mid-task (short lease): the task runs again elsewhere', async () => {
    const r = await run('peer-killed', { agent: 'scripted' })
    once(r)
    expect(r.recovery_ms).toHaveLength(1)
    expect(r.recovery_ms[0]!.ms).not.toBeNull()
  }, 150_000)

  // KNOWN GAP, found by this scenario (board, 17:27): with the production lease (20 min) and
  // liveness, a killed holder's task does not run again within the run; the goal is 15 s.
  // `it.fails` keeps the branch green and turns red the day the takeover meets the goal.
  it.fails('peer killed mid-task with the production lease: the task runs again elsewhere within 15 s', async () => {
    const { report } = await runScenario({
      scenario: await shortScenario('peer-killed', { lease: undefined, timings: {}, issues: 2, durationMs: 40_000 }),
      nodeFactory: memoryNodeFactory(),
      idleWindowMs: 0,
      quietMs: 500
    })
    expect(report.recovery_ms).toHaveLength(1)
    expect(report.goals).toEqual([expect.objectContaining({ name: 'recovery <= 15000 ms', ok: true })])
    expect(report.invariants.filter((c) => !c.ok)).toEqual([])
  }, 120_000)

  it('mesh partitioned and healed', async () => {
    const r = await run('partition', { peers: 4, issues: 4 })
    once(r)
    expect(r.faults.map((f) => f.fault)).toContain('partition')
    expect(r.recovery_ms.find((x) => x.fault === 'partition')).toBeDefined()
  }, 150_000)

  // Found by this scenario (board, 18:05): a skewed peer's messages were refused by the mesh, so
  // the others did not trust its claim markers and two held the task. Peers now trust every
  // peer's login from the start (NodeSpec.peerLogins → createNode's trustedClaimants).
  it('a peer\'s clock skewed by minutes', async () => {
    once(await run('clock-skew'))
  }, 150_000)
})
