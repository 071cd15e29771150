// transport netns: each peer a `bzzz start` daemon in its own network namespace, found by mDNS
// only. Needs root and iproute2 (CI runs as root); skipped, with the reason, elsewhere.
import { execFile, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import type { DaemonFacts } from './daemon-node.js'
import { netnsUnavailable } from './netns.js'
import { runScenario } from './runner.js'
import { shortScenario } from './scenarios.test.util.js'
import { netnsTransport } from './transport-netns.js'

const root = join(import.meta.dirname, '..', '..', '..')
const why = netnsUnavailable()
if (why !== undefined) console.log(`skipping the netns transport test: ${why}`)

describe.skipIf(why !== undefined)('transport netns', () => {
  beforeAll(async () => {
    // The daemons run apps/peer's dist/cli.js: build it (and what it needs) first.
    await promisify(execFile)(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', join(root, 'apps', 'peer')], { cwd: root })
  }, 180_000)

  it('daemons in their own namespaces find each other by mDNS alone and work every task once', async () => {
    const scenario = await shortScenario('default', { peers: 3, issues: 3, transport: 'netns' })
    const facts: DaemonFacts[] = []
    const transport = netnsTransport(scenario.agent, { observe: (f) => facts.push(f) })
    const started = performance.now()
    const { report, events } = await runScenario({ scenario, nodeFactory: transport.nodeFactory, network: transport.network!, idleWindowMs: 0, quietMs: 500 })
    console.log(`netns run: 3 peers, 3 issues in ${Math.round(performance.now() - started)} ms (report wall ${report.wall_ms} ms)`)
    expect(report.invariants.filter((c) => !c.ok)).toEqual([])
    expect(report).toMatchObject({ transport: 'netns', tasks_done: 3, lost_tasks: 0, logs_verified: true })
    expect(events.filter((e) => e.kind === 'published')).toHaveLength(3)
    // Found, not told: mDNS on, no bootstrap peer, and yet every daemon connected to both others.
    expect(facts).toHaveLength(3)
    const ids = facts.map((f) => f.nodeId)
    for (const f of facts) {
      const mesh = f.config.mesh as { mdns?: boolean, bootstrap?: string[], listen?: string[] }
      expect(mesh.mdns).toBe(true)
      expect(mesh.bootstrap ?? []).toEqual([])
      expect(mesh.listen?.[0]).toMatch(/^\/ip4\/10\.\d+\.\d+\.\d+\/tcp\/4001$/)
      expect(f.connections).toBe(2)
      expect(f.peers.filter((id) => id !== f.nodeId).sort()).toEqual(ids.filter((id) => id !== f.nodeId).sort())
    }
    // Nothing left behind.
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(`bzs${process.pid}`)
    expect(spawnSync('ip', ['link', 'show'], { encoding: 'utf8' }).stdout).not.toContain(`bzs${process.pid}`)
  }, 240_000)
})
