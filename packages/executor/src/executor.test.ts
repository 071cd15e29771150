import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createCommandAdapter } from './command-adapter.js'
import { createExecutor, taskBranch } from './executor.js'
import { SCRIPTED_AGENT, startTaskForge, tokenOf, won, type TaskForge } from './fixtures.test.util.js'
import type { ClaimHandle } from '@bzzz/github'
import type { Executor, ExecutorInit } from './types.js'

const execFileP = promisify(execFile)
const dirs: string[] = []
afterAll(async () => { await Promise.all(dirs.map(async (d) => await rm(d, { recursive: true, force: true }))) })
const tempDir = async (): Promise<string> => { const d = await mkdtemp(join(tmpdir(), 'bzzz-exec-')); dirs.push(d); return d }

async function gitOut (args: string[], cwd: string): Promise<string> {
  return (await execFileP('git', args, { cwd })).stdout
}

const identity = { name: 'Bob Node', email: 'bob-node@example.test' }

describe('the executor against the forge', () => {
  let fx: TaskForge | undefined
  afterEach(async () => { await fx?.close(); fx = undefined })

  it('turns an issue into a pull request with exactly the expected diff, authored by the node', async () => {
    fx = await startTaskForge({ files: { 'README.md': '# tasks\n', 'CONTRIBUTING.md': 'Use tabs.\n' } })
    const bob = await fx.peer('bob')
    const claim = await won(bob.claimer, 'alice/tasks', 1)
    const events: string[] = []
    const executor = createExecutor({
      dataDir: await tempDir(),
      agent: createCommandAdapter({ command: [SCRIPTED_AGENT, 'write', 'hello.txt', 'hi'] }),
      publisher: bob.publisher,
      gitEnv: () => bob.client.gitEnv(),
      identity,
      wipIntervalMs: 0
    })
    const outcome = await executor.run({ repo: 'alice/tasks', issue: 1, title: 'Add hello.txt', body: 'Please add hello.txt' }, claim, { onEvent: (e) => { events.push(e.type === 'state' ? e.state : e.type) } })
    expect(outcome).toMatchObject({ type: 'pull_request', branch: taskBranch(1, claim.node), followUps: [] })
    if (outcome.type !== 'pull_request') return
    expect(events).toEqual(expect.arrayContaining(['preparing', 'running', 'agent', 'collecting', 'publishing', 'done', 'ended']))
    const pull = await bob.client.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { owner: 'alice', repo: 'tasks', pull_number: outcome.number })
    expect(pull.data.head.label).toBe(`bob:${outcome.branch}`)
    expect(pull.data.body).toMatch(/^Closes #1/)
    // The fork's branch: one commit on upstream's main, exactly the one file, by the node.
    const check = await tempDir()
    await gitOut(['clone', '-q', fx.forge.gitUrl('bob', 'tasks'), 'c'], check)
    const c = join(check, 'c')
    await gitOut(['fetch', '-q', fx.forge.gitUrl('alice', 'tasks'), 'main:upstream'], c)
    await gitOut(['fetch', '-q', 'origin', `${outcome.branch}:task`], c)
    expect(await gitOut(['diff', '--name-status', 'upstream', 'task'], c)).toBe('A\thello.txt\n')
    expect(await gitOut(['show', 'task:hello.txt'], c)).toBe('hi\n')
    expect((await gitOut(['log', '--format=%an <%ae>|%cn <%ce>', 'upstream..task'], c)).trim()).toBe('Bob Node <bob-node@example.test>|Bob Node <bob-node@example.test>')
    expect((await gitOut(['rev-parse', 'task'], c)).trim()).toBe(outcome.commit)
  }, 60_000)

  it('keeps the token from the agent: not in its environment, not in .git/config; its own push fails', async () => {
    fx = await startTaskForge()
    const bob = await fx.peer('bob')
    const claim = await won(bob.claimer, 'alice/tasks', 1)
    const dataDir = await tempDir()
    const lines: string[] = []
    process.env.GITHUB_TOKEN = tokenOf('bob') // a peer started with the token in its environment
    try {
      const executor = createExecutor({
        dataDir,
        agent: createCommandAdapter({ command: [SCRIPTED_AGENT, 'env'] }),
        publisher: bob.publisher,
        gitEnv: () => bob.client.gitEnv(),
        identity,
        envAllow: ['PATH', 'HOME', 'GITHUB_TOKEN'],
        wipIntervalMs: 0
      })
      const outcome = await executor.run({ repo: 'alice/tasks', issue: 1, title: 't', body: 'b' }, claim, {
        onEvent: (e) => { if (e.type === 'agent' && e.event.type === 'message') lines.push(e.event.text) }
      })
      expect(outcome.type).toBe('pull_request')
    } finally {
      delete process.env.GITHUB_TOKEN
    }
    const token = tokenOf('bob')
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64')
    const envLines = lines.filter((l) => l.startsWith('ENV '))
    expect(envLines.length).toBeGreaterThan(2)
    expect(envLines.some((l) => l.startsWith('ENV PATH='))).toBe(true)
    for (const l of envLines) {
      expect(l).not.toContain(token)
      expect(l).not.toContain(basic)
      expect(l).not.toMatch(/^ENV (GITHUB_TOKEN|GIT_CONFIG_(COUNT|KEY|VALUE))/)
    }
    expect(lines).toContain('PUSH failed')
    // Every git config under the data dir (the cache and the kept workspace) is clean.
    const configs: string[] = []
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = join(d, e.name)
        if (e.isDirectory()) await walk(p)
        else if (e.name === 'config' && d.endsWith('.git')) configs.push(await readFile(p, 'utf8'))
      }
    }
    await walk(dataDir)
    expect(configs.length).toBeGreaterThanOrEqual(2)
    for (const c of configs) {
      expect(c).not.toContain(token)
      expect(c).not.toContain(basic)
      expect(c).not.toMatch(/extraheader|@127\.0\.0\.1/i)
    }
    // The agent's own push never reached the fork.
    const branches = await bob.client.request('GET /repos/{owner}/{repo}/branches', { owner: 'bob', repo: 'tasks' })
    expect(branches.data.map((b) => b.name)).not.toContain('agent-push')
  }, 60_000)

  it('a failing agent, an agent that changes nothing and one whose every call is denied each end in a failure report', async () => {
    fx = await startTaskForge({ issues: [{ title: 'one' }, { title: 'two' }, { title: 'three' }] })
    const bob = await fx.peer('bob')
    const cases: Array<[number, string, string]> = [[1, 'crash', 'agent_failed'], [2, 'nochange', 'no_change'], [3, 'denied', 'denied']]
    for (const [issue, scenario, reason] of cases) {
      const claim = await won(bob.claimer, 'alice/tasks', issue)
      const executor = createExecutor({ dataDir: await tempDir(), agent: createCommandAdapter({ command: [SCRIPTED_AGENT, scenario] }), publisher: bob.publisher, gitEnv: () => bob.client.gitEnv(), identity, wipIntervalMs: 0 })
      const outcome = await executor.run({ repo: 'alice/tasks', issue, title: 'x', body: 'y' }, claim)
      expect(outcome).toMatchObject({ type: 'failure', reason })
      if (outcome.type !== 'failure') continue
      expect(outcome.report?.url).toMatch(/issuecomment/)
      if (scenario === 'crash') expect(outcome.tail).toContain('Error: something broke')
    }
  }, 60_000)

  it('follow-ups become issues, and a missing capability is a help outcome, not a failure', async () => {
    fx = await startTaskForge({ issues: [{ title: 'one' }, { title: 'two' }] })
    const bob = await fx.peer('bob')
    const followUps = JSON.stringify({ follow_ups: [{ title: 'Also do B', body: 'B is needed too.' }] })
    const help = JSON.stringify({ help: { capabilities: ['gpu'], reason: 'needs CUDA to run the tests' } })
    const mk = (json: string): Executor<ClaimHandle> => createExecutor({ dataDir: dirs[0]!, agent: createCommandAdapter({ command: [SCRIPTED_AGENT, 'outcome', json] }), publisher: bob.publisher, gitEnv: () => bob.client.gitEnv(), identity, wipIntervalMs: 0 })
    dirs.unshift(await tempDir())
    const o1 = await mk(followUps).run({ repo: 'alice/tasks', issue: 1, title: 'x', body: 'y' }, await won(bob.claimer, 'alice/tasks', 1))
    expect(o1).toMatchObject({ type: 'issues', followUps: [{ created: true }] })
    const o2 = await mk(help).run({ repo: 'alice/tasks', issue: 2, title: 'x', body: 'y' }, await won(bob.claimer, 'alice/tasks', 2))
    expect(o2).toMatchObject({ type: 'help', capabilities: ['gpu'], reason: 'needs CUDA to run the tests' })
    const issues = await bob.client.request('GET /repos/{owner}/{repo}/issues', { owner: 'alice', repo: 'tasks', state: 'all' })
    expect(issues.data.map((i) => i.title)).toContain('Also do B')
  }, 60_000)

  it('a run killed mid-way resumes from its WIP branch on another workspace, and the pull request holds both runs\' work', async () => {
    fx = await startTaskForge({ files: { 'README.md': '# tasks\n', 'notes.txt': 'start\n' } })
    const bob = await fx.peer('bob')
    const carol = await fx.peer('carol')
    const claim = await won(bob.claimer, 'alice/tasks', 1)
    const base = (p: typeof bob, args: string[]): ExecutorInit<ClaimHandle> => ({
      dataDir: '', agent: createCommandAdapter({ command: [SCRIPTED_AGENT, ...args] }), publisher: p.publisher, gitEnv: () => p.client.gitEnv(), identity, wipIntervalMs: 200
    })
    // Run 1 (bob): writes a line, keeps working, and is stopped (the peer shuts down).
    const first = createExecutor({ ...base(bob, ['append', 'notes.txt', 'first run', 'then-hang']), dataDir: await tempDir() })
    const wips: string[] = []
    const running = first.run({ repo: 'alice/tasks', issue: 1, title: 'Notes', body: 'Add notes' }, claim, { onEvent: (e) => { if (e.type === 'wip') wips.push(e.commit) } })
    while (wips.length === 0) await new Promise((resolve) => setTimeout(resolve, 50))
    await first.close()
    const o1 = await running
    expect(o1).toMatchObject({ type: 'cancelled', reason: 'closed', wip: { owner: 'bob', branch: taskBranch(1, claim.node) } })
    // Bob gives the issue up; carol takes it over, continuing from bob's WIP branch (named in the claim history).
    await claim.release()
    const claim2 = await won(carol.claimer, 'alice/tasks', 1)
    const second = createExecutor({ ...base(carol, ['append', 'notes.txt', 'second run']), dataDir: await tempDir() })
    const o2 = await second.run({ repo: 'alice/tasks', issue: 1, title: 'Notes', body: 'Add notes', wipFrom: { owner: 'bob', branch: o1.wip!.branch } }, claim2)
    expect(o2.type).toBe('pull_request')
    if (o2.type !== 'pull_request') return
    const check = await tempDir()
    await gitOut(['clone', '-q', fx.forge.gitUrl('carol', 'tasks'), 'c'], check)
    const c = join(check, 'c')
    await gitOut(['fetch', '-q', 'origin', `${o2.branch}:task`], c)
    expect(await gitOut(['show', 'task:notes.txt'], c)).toBe('start\nfirst run\nsecond run\n')
    expect(await gitOut(['merge-base', '--is-ancestor', o1.wip!.commit, 'task'], c).then(() => true, () => false)).toBe(true)
  }, 60_000)
})
