import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ClaimHandle } from '@bzzz/github'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createCommandAdapter } from './command-adapter.js'
import { createExecutor } from './executor.js'
import { leftOver, newMark, SCRIPTED_AGENT, startTaskForge, won, type TaskForge } from './fixtures.test.util.js'

const dirs: string[] = []
afterAll(async () => { await Promise.all(dirs.map(async (d) => await rm(d, { recursive: true, force: true }))) })
const tempDir = async (): Promise<string> => { const d = await mkdtemp(join(tmpdir(), 'bzzz-exec-')); dirs.push(d); return d }
const identity = { name: 'Bob Node', email: 'bob-node@example.test' }

describe('the executor at its limits', () => {
  let fx: TaskForge | undefined
  afterEach(async () => { await fx?.close(); fx = undefined })

  it('an agent that never finishes (but keeps talking) is ended at the wall clock with its whole tree, and the failure is reported', async () => {
    fx = await startTaskForge()
    const bob = await fx.peer('bob')
    const claim = await won(bob.claimer, 'alice/tasks', 1)
    const mark = newMark()
    const executor = createExecutor({
      dataDir: await tempDir(),
      agent: createCommandAdapter({ command: [SCRIPTED_AGENT, 'chatty'], env: { MARK: mark } }),
      publisher: bob.publisher,
      gitEnv: () => bob.client.gitEnv(),
      identity,
      limits: { wallClockMs: 1000, inactivityMs: 60_000, killGraceMs: 300 },
      wipIntervalMs: 0
    })
    const outcome = await executor.run({ repo: 'alice/tasks', issue: 1, title: 't', body: 'b' }, claim)
    expect(outcome).toMatchObject({ type: 'failure', reason: 'wall_clock' })
    if (outcome.type === 'failure') {
      expect(outcome.tried).toContain('was ended: wall clock')
      expect(outcome.tail).toContain('working')
      expect(outcome.report?.created).toBe(true)
    }
    expect(await leftOver(mark)).toEqual([])
  }, 60_000)

  it('a lost claim ends the agent and its tree, pushes the work in progress and publishes nothing', async () => {
    fx = await startTaskForge({ files: { 'notes.txt': 'start\n' } })
    const bob = await fx.peer('bob')
    const real = await won(bob.claimer, 'alice/tasks', 1)
    const lost = new AbortController()
    // The claim as the claimer hands it, with a signal this test aborts (as a failed renewal would).
    const claim = new Proxy(real, { get: (t, p) => p === 'signal' ? lost.signal : Reflect.get(t, p) as unknown }) as ClaimHandle
    const mark = newMark()
    const executor = createExecutor({
      dataDir: await tempDir(),
      agent: createCommandAdapter({ command: [SCRIPTED_AGENT, 'append', 'notes.txt', 'partial', 'then-hang'], env: { MARK: mark } }),
      publisher: bob.publisher,
      gitEnv: () => bob.client.gitEnv(),
      identity,
      wipIntervalMs: 0
    })
    // Lost while the agent works, after it changed a file.
    const outcome = await executor.run({ repo: 'alice/tasks', issue: 1, title: 't', body: 'b' }, claim, {
      onEvent: (e) => { if (e.type === 'agent' && e.event.type === 'file_change') setTimeout(() => { lost.abort(new Error('claim lost')) }, 200) }
    })
    expect(outcome).toMatchObject({ type: 'cancelled', reason: 'claim_lost', wip: { owner: 'bob' } })
    expect(await leftOver(mark)).toEqual([])
    const branch = await bob.client.request('GET /repos/{owner}/{repo}/branches/{branch}', { owner: 'bob', repo: 'tasks', branch: outcome.wip!.branch })
    expect(branch.data.commit.sha).toBe(outcome.wip!.commit)
    const comments = await bob.client.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner: 'alice', repo: 'tasks', issue_number: 1 })
    expect(comments.data.filter((c) => c.body?.includes('bzzz:failure'))).toEqual([])
    const pulls = await bob.client.request('GET /repos/{owner}/{repo}/pulls', { owner: 'alice', repo: 'tasks', state: 'all' })
    expect(pulls.data).toEqual([])
  }, 60_000)
})
