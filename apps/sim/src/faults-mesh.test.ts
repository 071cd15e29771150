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

  // The goal with the production lease and liveness. It failed here for two reasons (board,
  // 18:05): peers joined through peer 0 only, so the peer free to take the task over had no
  // connection to the killed holder and held it dead only after 9 s of silence (the busy peer 0
  // held it dead at once); and the run's 40 s ended before the breaker's publication, which
  // waits for its fence (claim + 2 × settle + margin, 30 s with the production lease). A small
  // mesh is now a full mesh, and the run lasts long enough to publish (it ends once all is
  // published; the duration leaves room for a longer fence window, e.g. claim2's ≈ 55 s).
  // As many issues as peers: every survivor is busy when the holder dies, and takes the task once
  // its own agent has ended (a slot counts agent work, not the ≈ 55 s wait for its fence).
  it('peer killed mid-task with the production lease: the task runs again elsewhere within 15 s', async () => {
    const { report, events } = await runScenario({
      scenario: await shortScenario('peer-killed', { lease: undefined, timings: {}, issues: 3, durationMs: 120_000 }),
      nodeFactory: memoryNodeFactory(),
      idleWindowMs: 0,
      quietMs: 500
    })
    if (!report.ok) console.error(JSON.stringify({ ...report, samples: undefined }, null, 2))
    expect(report.recovery_ms).toHaveLength(1)
    expect(report.goals).toEqual([expect.objectContaining({ name: 'recovery <= 15000 ms', ok: true })])
    expect(report.invariants.filter((c) => !c.ok)).toEqual([])
    const kill = events.find((e) => e.kind === 'fault_start' && e.fault === 'kill')!
    console.log(`production-lease kill: the task ran again ${report.recovery_ms[0]!.ms} ms after the kill; published ${Math.max(...events.filter((e) => e.kind === 'published').map((e) => e.t)) - kill.t} ms after it`)
  }, 200_000)

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
