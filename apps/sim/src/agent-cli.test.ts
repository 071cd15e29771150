// agent cli: every peer runs the real `claude` CLI (the executor's pinned one) through
// @bzzz/executor against one scripted model server, in loopback-only network namespaces.
// Needs root (`unshare -n`; CI runs as root); skipped, with the reason, elsewhere.
import { canUseNetworkNamespaces } from '@bzzz/executor'
import { describe, expect, it } from 'vitest'
import { memoryNodeFactory } from './peer-node.js'
import { runScenario } from './runner.js'
import { shortScenario } from './scenarios.test.util.js'

const root = canUseNetworkNamespaces()
if (!root) console.log('skipping the agent cli test: it needs root for `unshare -n` (CI runs as root)')

describe.skipIf(!root)('agent cli', () => {
  it('each task becomes a pull request written by the real claude CLI against the scripted model server', async () => {
    const scenario = await shortScenario('default', { peers: 2, issues: 2, agent: 'cli' })
    expect(scenario.agent.cli).toBe('claude')
    const started = performance.now()
    // Each pull request's files, read from the forge while the run is still up.
    const files: Array<Promise<string[]>> = []
    const filesOf = async (url: string): Promise<string[]> => {
      const m = /^(http:\/\/[^/]+)\/([^/]+)\/([^/]+)\/pull\/(\d+)$/.exec(url)
      if (m === null) return []
      const res = await fetch(`${m[1]}/repos/${m[2]}/${m[3]}/pulls/${m[4]}/files`)
      return ((await res.json()) as Array<{ filename: string }>).map((f) => f.filename)
    }
    const { report, events } = await runScenario({
      scenario,
      nodeFactory: memoryNodeFactory(),
      idleWindowMs: 0,
      quietMs: 3000,
      onEvent: (e) => { if (e.kind === 'published') files.push(filesOf(e.url).catch((err: Error) => [`error: ${err.message}`])) }
    })
    console.log(`agent cli run: 2 peers, 2 issues in ${Math.round(performance.now() - started)} ms (report wall ${report.wall_ms} ms)`)
    if (!report.ok) console.error(JSON.stringify({ ...report, samples: undefined }, null, 2))
    expect(report.invariants.filter((c) => !c.ok)).toEqual([])
    expect(report).toMatchObject({ tasks_done: 2, tasks_failed: 0, lost_tasks: 0, logs_verified: true })
    // Each pull request was published by the executor after the CLI's run (its start and final seen).
    // The CLI wrote the file the scripted model asked for, and nothing else.
    expect(await Promise.all(files)).toEqual([['sim-agent.md'], ['sim-agent.md']])
    const published = events.filter((e) => e.kind === 'published')
    expect(published).toHaveLength(2)
    for (const p of published) {
      if (p.kind !== 'published') continue
      expect(p.url).toMatch(/\/pull\/\d+$/)
      expect(events.some((e) => e.kind === 'agent_started' && e.task === p.task && e.peer === p.peer)).toBe(true)
      expect(events.some((e) => e.kind === 'agent_finished' && e.task === p.task && e.peer === p.peer && e.ok)).toBe(true)
    }
  }, 300_000)
})
