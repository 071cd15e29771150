// Three `bzzz` daemons as separate processes on loopback TCP, with bootstrap peers, against
// the forge, with the scripted agent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Forge } from '@bzzz/forge'
import { pullRequests, testForge, waitFor } from './test-utils.js'
import { api, buildCli, bzzz, cleanup, events, initDaemon, startDaemonProc, tempRoot, type DaemonProc } from './test-daemons.js'

let forge: Forge
let root: string
const daemons: DaemonProc[] = []

beforeAll(async () => {
  await buildCli()
  forge = await testForge(['alpha', 'bravo', 'charlie'], [], { nodesAreMembers: true })
  root = await tempRoot()
}, 120_000)

afterAll(async () => {
  await cleanup(root, daemons)
  await forge.close()
})

describe('three daemons', () => {
  it('turn a labelled issue into exactly one pull request; status, peers and tasks show it', async () => {
    const alpha = await initDaemon(root, 'alpha', forge)
    daemons.push(alpha)
    await startDaemonProc(alpha)
    for (const name of ['bravo', 'charlie']) {
      const d = await initDaemon(root, name, forge, { bootstrap: [alpha.address!] })
      daemons.push(d)
      await startDaemonProc(d)
    }
    await waitFor('a full mesh', async () => {
      const outs = await Promise.all(daemons.map(async (d) => await api<{ peers: number }>(d, '/api/status')))
      return outs.every((s) => s.peers === 2)
    }, 60_000)
    // A node starts work as well as takes it: bravo opens the issue.
    const submitted = await bzzz(daemons[1]!, ['task', 'submit', '--repo', 'acme/tasks', '--title', 'Write a greeting', '--body', 'Add greeting.md'])
    expect(submitted.stdout.trim()).toBe(`${forge.url}/acme/tasks/issues/1`)
    const t0 = Date.now()
    await waitFor('a result', () => daemons.some((d) => events(d, 'task:result').length > 0), 90_000).catch((err: Error) => {
      for (const d of daemons) console.log(d.name, d.lines.map((l) => l.event ?? l.msg).join(' '), d.stderr.join(''))
      throw err
    })
    console.log(JSON.stringify({ metric: 'three_daemons_issue_to_pr_ms', ms: Date.now() - t0 }))
    await waitFor('done everywhere', async () => {
      const outs = await Promise.all(daemons.map(async (d) => await api<Array<{ status: string }>>(d, '/api/tasks')))
      return outs.every((t) => t.length === 1 && t[0]!.status === 'done')
    }, 60_000)
    const prs = await pullRequests(forge)
    expect(prs).toHaveLength(1)
    const url = `${forge.url}/acme/tasks/pull/${prs[0]!.number}`

    const tasks = await bzzz(daemons[1]!, ['tasks'])
    expect(tasks.code).toBe(0)
    expect(tasks.stdout).toContain('acme/tasks#1')
    expect(tasks.stdout).toContain('done')
    expect(tasks.stdout).toContain(url)
    const peers = await bzzz(daemons[1]!, ['peers', '--json'])
    const list = JSON.parse(peers.stdout) as Array<{ nodeId: string, liveness: string }>
    expect(list.map((p) => p.nodeId).sort()).toEqual(daemons.map((d) => d.nodeId).sort())
    expect(list.every((p) => p.liveness === 'alive')).toBe(true)
    const status = await bzzz(daemons[2]!, ['status'])
    expect(status.stdout).toContain(daemons[2]!.nodeId)
    expect(status.stdout).toMatch(/peers\s+2 connected/)
    const verify = await bzzz(daemons[0]!, ['log', 'verify'])
    expect(verify.code).toBe(0)
    expect(verify.stdout).toContain('ok')
  }, 180_000)
})
