// The Ollama adapter through createExecutor against the scripted model server's Ollama API and
// the forge: the model's diff ends in a pull request; a model that only proposes diffs that do
// not apply ends in a failure report (no change), not a pull request.
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createExecutor } from '../executor.js'
import { startTaskForge, won, type TaskForge } from '../fixtures.test.util.js'
import { createScriptedModelServer, type ScriptedModelServer } from '../model-server/server.js'
import { createAgentAdapter } from './index.js'

const execFileP = promisify(execFile)
const fence = '`'.repeat(3)
const addGreeting = `I will add the file.\n${fence}diff\n--- /dev/null\n+++ b/docs/greeting.md\n@@ -0,0 +1 @@\n+Hello from Ollama.\n${fence}\n`
const wrongContext = `${fence}diff\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-# something else\n+# changed\n${fence}\n`

describe('the Ollama adapter through the executor', () => {
  let dir: string
  let server: ScriptedModelServer
  let fx: TaskForge | undefined
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bzzz-ollama-pr-'))
    server = createScriptedModelServer({ script: { actions: [], final: '' }, models: ['qwen2.5-coder'] })
    await server.start()
  })
  afterAll(async () => {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  })
  afterEach(async () => { await fx?.close(); fx = undefined })

  const run = async (issue: number) => {
    fx ??= await startTaskForge({ issues: [{ title: 'Add a greeting', body: 'Please add docs/greeting.md.' }, { title: 'Impossible', body: 'x' }] })
    const bob = await fx.peer('bob')
    const claim = await won(bob.claimer, 'alice/tasks', issue)
    const executor = createExecutor({
      dataDir: join(dir, `data-${issue}`),
      agent: createAgentAdapter('ollama', { model: 'qwen2.5-coder', maxRounds: 3 }),
      publisher: bob.publisher,
      gitEnv: () => bob.client.gitEnv(),
      identity: { name: 'Bob Node', email: 'bob-node@example.test' },
      wipIntervalMs: 0,
      endpoint: { baseUrl: server.url }
    })
    return { outcome: await executor.run({ repo: 'alice/tasks', issue, title: 't', body: 'b' }, claim), forge: fx }
  }

  it('the proposed diff ends in a pull request with exactly that change', async () => {
    server.script = { actions: [{ text: addGreeting }], final: 'Added docs/greeting.md.' }
    const { outcome, forge } = await run(1)
    expect(outcome).toMatchObject({ type: 'pull_request' })
    if (outcome.type !== 'pull_request') return
    const check = join(dir, 'check')
    await execFileP('git', ['clone', '-q', forge.forge.gitUrl('bob', 'tasks'), check])
    await execFileP('git', ['fetch', '-q', forge.forge.gitUrl('alice', 'tasks'), 'main:upstream'], { cwd: check })
    await execFileP('git', ['fetch', '-q', 'origin', `${outcome.branch}:task`], { cwd: check })
    expect((await execFileP('git', ['diff', 'upstream', 'task'], { cwd: check })).stdout).toContain('+Hello from Ollama.')
    expect((await execFileP('git', ['diff', '--name-only', 'upstream', 'task'], { cwd: check })).stdout).toBe('docs/greeting.md\n')
  }, 60_000)

  it('diffs that never apply, until the round limit: a failure, nothing published as a pull request', async () => {
    server.script = { actions: [{ text: wrongContext }, { text: wrongContext }, { text: wrongContext }], final: 'x' }
    const { outcome } = await run(2)
    expect(outcome).toMatchObject({ type: 'failure' })
    if (outcome.type === 'failure') expect(outcome.reason).toBe('turn_limit')
  }, 60_000)
})
