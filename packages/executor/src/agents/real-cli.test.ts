// Each real agent CLI, end to end against the scripted model server, in a loopback-only network
// namespace: the scripted tool call really changes the workspace.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { canUseNetworkNamespaces } from '../model-server/netns.js'
import { claudeAdapter } from './claude.js'
import { codexAdapter } from './codex.js'
import { geminiAdapter } from './gemini.js'
import { opencodeAdapter } from './opencode.js'
import { git, runCli, type CliRun } from './run-cli.test-utils.js'

const root = canUseNetworkNamespaces()
if (!root) console.warn('real agent CLI tests skipped: they need root for `unshare -n` (CI runs as root)')

const script = {
  actions: [{ write: { path: 'src/hello.txt', content: 'hello from the scripted model\n' } }],
  final: 'Wrote src/hello.txt.'
}

async function expectWrote (run: CliRun): Promise<void> {
  expect(run.code, run.stderr).toBe(0)
  expect(await readFile(join(run.workspace, 'src/hello.txt'), 'utf8')).toBe('hello from the scripted model\n')
  expect(await git(run.workspace, 'status', '--porcelain')).toContain('src/')
  const final = run.events.filter((e) => e.type === 'final').at(-1)
  expect(final).toMatchObject({ type: 'final', ok: true, reason: 'completed' })
  expect(run.events.some((e) => e.type === 'tool_call')).toBe(true)
  expect(run.events.some((e) => e.type === 'usage')).toBe(true)
}

describe.skipIf(!root)('real agent CLIs against the scripted model server', () => {
  it('claude writes the scripted file', async () => {
    const run = await runCli(claudeAdapter(), { script, env: { ANTHROPIC_API_KEY: 'scripted-key' } })
    await expectWrote(run)
    expect(run.events).toContainEqual({ type: 'file_change', path: join(run.workspace, 'src/hello.txt') })
    expect(run.requests.some((r) => r.api === 'anthropic')).toBe(true)
  })

  it('claude: a turn limit reached is a final turn_limit', async () => {
    const run = await runCli(claudeAdapter(), {
      script: { actions: [{ shell: 'true' }, { shell: 'true' }], final: 'never reached' },
      spec: { limits: { maxTurns: 1 } },
      env: { ANTHROPIC_API_KEY: 'scripted-key' }
    })
    expect(run.events.filter((e) => e.type === 'final').at(-1)).toMatchObject({ ok: false, reason: 'turn_limit' })
  })

  it('claude: a denied tool call ends as denied though the CLI exits 0', async () => {
    const run = await runCli(claudeAdapter({ template: { args: ['-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', 'default', '--', '{prompt}'] } }), {
      script,
      env: { ANTHROPIC_API_KEY: 'scripted-key' }
    })
    expect(run.code).toBe(0)
    expect(run.events).toContainEqual({ type: 'tool_result', name: 'Write', ok: false, denied: true })
    expect(run.events.filter((e) => e.type === 'final').at(-1)).toMatchObject({ ok: false, reason: 'denied' })
  })

  it('codex writes the scripted file', async () => {
    const run = await runCli(codexAdapter(), { script, spec: { model: 'scripted' } })
    await expectWrote(run)
    expect(run.requests.some((r) => r.api === 'openai-responses')).toBe(true)
  })

  it('gemini writes the scripted file', async () => {
    const run = await runCli(geminiAdapter(), { script, spec: { model: 'gemini-2.5-flash' }, env: { GEMINI_API_KEY: 'scripted-key' } })
    await expectWrote(run)
    expect(run.requests.some((r) => r.api === 'gemini')).toBe(true)
  })

  it('opencode writes the scripted file', async () => {
    const run = await runCli(opencodeAdapter(), { script, spec: { model: 'anthropic/claude-sonnet-4-5' } })
    await expectWrote(run)
    expect(run.events).toContainEqual({ type: 'file_change', path: join(run.workspace, 'src/hello.txt') })
    expect(run.requests.some((r) => r.api === 'anthropic')).toBe(true)
  })
})
