// Each real agent CLI through createExecutor, against the scripted model server (in a
// loopback-only network namespace) and the forge: an issue becomes a pull request holding
// exactly the file the scripted model had the CLI write.
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { AgentEvent, AgentRunSpec, CliAgentAdapter } from '../agent.js'
import { createExecutor } from '../executor.js'
import { startTaskForge, won, type TaskForge } from '../fixtures.test.util.js'
import { canUseNetworkNamespaces, withLoopbackNamespace } from '../model-server/netns.js'
import { createScriptedModelServer, type ScriptedModelServer } from '../model-server/server.js'
import { createAgentAdapter } from './index.js'

const execFileP = promisify(execFile)
const BIN = join(fileURLToPath(new URL('../..', import.meta.url)), 'node_modules', '.bin')
const root = canUseNetworkNamespaces()
if (!root) console.warn('real agent CLI pull request tests skipped: they need root for `unshare -n` (CI runs as root)')

const CASES: Array<{ name: 'claude' | 'codex' | 'gemini' | 'opencode', spec: Partial<AgentRunSpec>, env: Record<string, string> }> = [
  { name: 'claude', spec: {}, env: { ANTHROPIC_API_KEY: 'scripted-key' } },
  { name: 'codex', spec: { model: 'scripted' }, env: {} },
  { name: 'gemini', spec: { model: 'gemini-2.5-flash' }, env: { GEMINI_API_KEY: 'scripted-key' } },
  { name: 'opencode', spec: { model: 'anthropic/claude-sonnet-4-5' }, env: {} }
]

describe.skipIf(!root)('real agent CLIs through the executor to a pull request', () => {
  let dir: string
  let server: ScriptedModelServer
  let fx: TaskForge | undefined
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bzzz-cli-pr-'))
    server = createScriptedModelServer({
      script: { actions: [{ write: { path: 'docs/greeting.md', content: '# Hello\n\nWritten by a real agent CLI.\n' } }], final: 'Added docs/greeting.md.' },
      socketPath: join(dir, 'model.sock')
    })
    await server.start()
  })
  afterAll(async () => {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  })
  afterEach(async () => { await fx?.close(); fx = undefined })

  for (const c of CASES) {
    it(`${c.name}: the scripted file change ends in a pull request`, async () => {
      fx = await startTaskForge({ issues: [{ title: 'Add a greeting', body: 'Please add docs/greeting.md.' }] })
      const bob = await fx.peer('bob')
      const claim = await won(bob.claimer, 'alice/tasks', 1)
      const home = join(dir, `home-${c.name}`)
      await mkdir(home, { recursive: true })
      const agent = withLoopbackNamespace(createAgentAdapter(c.name) as CliAgentAdapter, [{ port: server.port, socketPath: join(dir, 'model.sock') }])
      const executor = createExecutor({
        dataDir: join(dir, `data-${c.name}`),
        agent,
        publisher: bob.publisher,
        gitEnv: () => bob.client.gitEnv(),
        identity: { name: 'Bob Node', email: 'bob-node@example.test' },
        wipIntervalMs: 0,
        ...(c.spec.model != null ? { model: c.spec.model } : {}),
        endpoint: { baseUrl: server.url, apiKeyEnv: 'SCRIPTED_API_KEY' },
        env: { PATH: `${dirname(process.execPath)}:${BIN}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`, HOME: home, SCRIPTED_API_KEY: 'scripted-key', ...c.env }
      })
      const events: AgentEvent[] = []
      const outcome = await executor.run({ repo: 'alice/tasks', issue: 1, title: 'Add a greeting', body: 'Please add docs/greeting.md.' }, claim, {
        onEvent: (e) => { if (e.type === 'agent') events.push(e.event) }
      })
      expect(outcome, JSON.stringify(outcome).slice(0, 2000)).toMatchObject({ type: 'pull_request' })
      if (outcome.type !== 'pull_request') return
      // The parser saw the CLI's own account of it: the tool call, its success, tokens, a completed end.
      expect(events.some((e) => e.type === 'tool_call')).toBe(true)
      expect(events).toContainEqual(expect.objectContaining({ type: 'tool_result', ok: true }))
      expect(events.some((e) => e.type === 'usage' && (e.inputTokens ?? 0) > 0)).toBe(true)
      expect(events.filter((e) => e.type === 'final').at(-1)).toMatchObject({ ok: true, reason: 'completed' })
      if (c.name !== 'codex') expect(events).toContainEqual({ type: 'file_change', path: expect.stringMatching(/docs\/greeting\.md$/) })
      const check = join(dir, `check-${c.name}`)
      await execFileP('git', ['clone', '-q', fx.forge.gitUrl('bob', 'tasks'), check])
      await execFileP('git', ['fetch', '-q', fx.forge.gitUrl('alice', 'tasks'), 'main:upstream'], { cwd: check })
      await execFileP('git', ['fetch', '-q', 'origin', `${outcome.branch}:task`], { cwd: check })
      expect((await execFileP('git', ['diff', '--name-status', 'upstream', 'task'], { cwd: check })).stdout).toBe('A\tdocs/greeting.md\n')
      expect((await execFileP('git', ['show', 'task:docs/greeting.md'], { cwd: check })).stdout).toBe('# Hello\n\nWritten by a real agent CLI.\n')
    }, 120_000)
  }
})
