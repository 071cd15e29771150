import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createCommandAdapter } from './command-adapter.js'
import { createExecutor } from './executor.js'
import { SCRIPTED_AGENT, startTaskForge, won, type TaskForge } from './fixtures.test.util.js'

const dirs: string[] = []
afterAll(async () => { await Promise.all(dirs.map(async (d) => await rm(d, { recursive: true, force: true }))) })

describe('the bubblewrap sandbox', () => {
  let fx: TaskForge | undefined
  afterEach(async () => { await fx?.close(); fx = undefined })

  it('lets the agent write its workspace only, and not read the data directory', async () => {
    fx = await startTaskForge()
    const bob = await fx.peer('bob')
    const claim = await won(bob.claimer, 'alice/tasks', 1)
    const dataDir = await mkdtemp(join(tmpdir(), 'bzzz-exec-sandbox-'))
    // Outside /tmp, which the sandbox replaces with its own.
    const outsideDir = await mkdtemp('/var/tmp/bzzz-exec-outside-')
    dirs.push(dataDir, outsideDir)
    const secret = join(dataDir, 'github-token')
    await writeFile(secret, 'tok-secret\n', { mode: 0o600 })
    const outside = join(outsideDir, 'escaped.txt')
    const lines: string[] = []
    const executor = createExecutor({
      dataDir,
      agent: createCommandAdapter({ command: [SCRIPTED_AGENT, 'escape', outside, secret] }),
      publisher: bob.publisher,
      gitEnv: () => bob.client.gitEnv(),
      identity: { name: 'Bob Node', email: 'bob-node@example.test' },
      sandbox: 'bwrap',
      wipIntervalMs: 0
    })
    const outcome = await executor.run({ repo: 'alice/tasks', issue: 1, title: 't', body: 'b' }, claim, {
      onEvent: (e) => { if (e.type === 'agent' && e.event.type === 'message') lines.push(e.event.text) }
    })
    expect(lines).toEqual(['WRITE-OUTSIDE denied', 'READ-SECRET denied', 'WRITE-INSIDE ok'])
    expect(existsSync(outside)).toBe(false)
    expect(outcome.type).toBe('pull_request')
  }, 60_000)
})
