// transport tcp: each peer a `bzzz start` daemon process (apps/peer's built CLI) on loopback.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { daemonNodeFactory } from './daemon-node.js'
import { runScenario } from './runner.js'
import { shortScenario } from './scenarios.test.util.js'

const root = join(import.meta.dirname, '..', '..', '..')

describe('transport tcp', () => {
  beforeAll(async () => {
    // The daemons run apps/peer's dist/cli.js: build it (and what it needs) first.
    await promisify(execFile)(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', join(root, 'apps', 'peer')], { cwd: root })
  }, 180_000)

  it('daemon processes on loopback work every task once; events, counts and logs come from their logs and HTTP interface', async () => {
    const scenario = await shortScenario('default', { peers: 2, issues: 2, transport: 'tcp' })
    const lines: string[] = []
    const { report, events } = await runScenario({ scenario, nodeFactory: daemonNodeFactory(scenario.agent), idleWindowMs: 0, quietMs: 500, onLogLine: (_, l) => lines.push(l) })
    expect(report.invariants.filter((c) => !c.ok)).toEqual([])
    expect(report).toMatchObject({ transport: 'tcp', tasks_done: 2, lost_tasks: 0, logs_verified: true })
    expect(events.filter((e) => e.kind === 'peer_up')).toHaveLength(2)
    expect(events.some((e) => e.kind === 'claim_won')).toBe(true)
    expect(events.filter((e) => e.kind === 'published')).toHaveLength(2)
    expect(report.github_requests.total).toBeGreaterThan(0)
    expect(lines.some((l) => l.includes('"event":"daemon:started"'))).toBe(true)
  }, 180_000)

  it('refuses what a daemon process cannot do, naming it', async () => {
    const scenario = await shortScenario('failing-agents', { peers: 1, issues: 1, transport: 'tcp' })
    await expect(runScenario({ scenario, nodeFactory: daemonNodeFactory(scenario.agent), idleWindowMs: 0, quietMs: 0 })).rejects.toThrow(/no failRate or hangRate/)
  })
})
