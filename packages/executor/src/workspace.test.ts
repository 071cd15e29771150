import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createCommandAdapter } from './command-adapter.js'
import type { ClaimHandle } from '@bzzz/github'
import { createExecutor, taskBranch } from './executor.js'
import type { Executor } from './types.js'
import { SCRIPTED_AGENT, startTaskForge, won, type TaskForge } from './fixtures.test.util.js'

const dirs: string[] = []
afterAll(async () => { await Promise.all(dirs.map(async (d) => await rm(d, { recursive: true, force: true }))) })

describe('workspaces', () => {
  let fx: TaskForge | undefined
  afterEach(async () => { await fx?.close(); fx = undefined })

  it('the executor never runs what the agent planted in .git, and the next task gets a clean, reused workspace', async () => {
    fx = await startTaskForge({ issues: [{ title: 'one' }, { title: 'two' }] })
    const bob = await fx.peer('bob')
    const dataDir = await mkdtemp(join(tmpdir(), 'bzzz-exec-ws-'))
    dirs.push(dataDir)
    const mark = join(dataDir, 'hook-ran')
    const lines: string[] = []
    const make = (args: string[]): Executor<ClaimHandle> => createExecutor({
      dataDir, agent: createCommandAdapter({ command: [SCRIPTED_AGENT, ...args] }), publisher: bob.publisher, gitEnv: () => bob.client.gitEnv(), identity: { name: 'B', email: 'b@example.test' }, wipIntervalMs: 0
    })
    const o1 = await make(['hostile', mark]).run({ repo: 'alice/tasks', issue: 1, title: 't', body: 'b' }, await won(bob.claimer, 'alice/tasks', 1))
    expect(o1.type).toBe('pull_request')
    expect(existsSync(mark)).toBe(false)
    const o2 = await make(['look']).run({ repo: 'alice/tasks', issue: 2, title: 't', body: 'b' }, await won(bob.claimer, 'alice/tasks', 2), {
      onEvent: (e) => { if (e.type === 'agent' && e.event.type === 'message') lines.push(e.event.text) }
    })
    expect(o2).toMatchObject({ type: 'failure', reason: 'no_change' })
    expect(existsSync(mark)).toBe(false)
    // The same slot, reset: upstream's files only, git sees a clean tree on the task's branch.
    expect(lines.filter((l) => l.startsWith('FILE ')).sort()).toEqual(['FILE .git', 'FILE README.md'])
    expect(lines.filter((l) => l.startsWith('STATUS '))).toEqual([])
    expect(lines).toContain(`BRANCH ${taskBranch(2, '12D3KooWbobnode')}`)
    expect(existsSync(join(dataDir, 'executor', 'tasks', 'alice-tasks-1'))).toBe(false)
  }, 60_000)
})
