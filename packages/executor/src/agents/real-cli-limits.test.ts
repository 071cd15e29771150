// A real agent CLI whose model goes quiet, through createExecutor: the inactivity limit ends it
// and everything it started (its namespace bridge included), and the run is a failure report.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CliAgentAdapter } from '../agent.js'
import { createExecutor } from '../executor.js'
import { leftOver, newMark, processesWith, startTaskForge, won } from '../fixtures.test.util.js'
import { canUseNetworkNamespaces, withLoopbackNamespace } from '../model-server/netns.js'
import { createScriptedModelServer, type ScriptedModelServer } from '../model-server/server.js'
import { claudeAdapter } from './claude.js'

const BIN = join(fileURLToPath(new URL('../..', import.meta.url)), 'node_modules', '.bin')
const root = canUseNetworkNamespaces()
if (!root) console.warn('real agent CLI limit test skipped: it needs root for `unshare -n` (CI runs as root)')

describe.skipIf(!root)('a real agent CLI at the executor\'s limits', () => {
  let dir: string
  let server: ScriptedModelServer
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bzzz-cli-limit-'))
    server = createScriptedModelServer({
      script: { actions: [{ write: { path: 'x.txt', content: 'x' } }], final: 'never', delayMs: 120_000 },
      socketPath: join(dir, 'model.sock')
    })
    await server.start()
  })
  afterAll(async () => {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('claude waiting on a silent model is ended at the inactivity limit, with its whole tree', async () => {
    const fx = await startTaskForge({ issues: [{ title: 'Quiet', body: 'x' }] })
    try {
      const bob = await fx.peer('bob')
      const claim = await won(bob.claimer, 'alice/tasks', 1)
      const mark = `quiet${newMark()}`
      const home = join(dir, 'home')
      await mkdir(home, { recursive: true })
      const executor = createExecutor({
        dataDir: join(dir, 'data'),
        agent: withLoopbackNamespace(claudeAdapter() as CliAgentAdapter, [{ port: server.port, socketPath: join(dir, 'model.sock') }]),
        publisher: bob.publisher,
        gitEnv: () => bob.client.gitEnv(),
        identity: { name: 'Bob Node', email: 'bob-node@example.test' },
        wipIntervalMs: 0,
        limits: { inactivityMs: 6000, killGraceMs: 500 },
        endpoint: { baseUrl: server.url },
        env: { PATH: `${dirname(process.execPath)}:${BIN}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`, HOME: home, ANTHROPIC_API_KEY: 'scripted-key' }
      })
      // The mark is in the prompt, so in the command line of the CLI and of the bridge that runs it.
      let seen = 0
      const watch = setInterval(() => { seen = Math.max(seen, processesWith(mark).length) }, 100)
      const outcome = await executor.run({ repo: 'alice/tasks', issue: 1, title: `Quiet ${mark}`, body: 'x' }, claim)
      clearInterval(watch)
      expect(outcome).toMatchObject({ type: 'failure', reason: 'inactivity' })
      // The CLI ran (usually it is waiting on the model by then; on a loaded machine it may still be
      // starting up, silent too), and nothing of the run is left.
      expect(await leftOver(mark, 5000)).toEqual([])
      expect(seen).toBeGreaterThanOrEqual(2)
    } finally {
      await fx.close()
    }
  }, 90_000)
})
