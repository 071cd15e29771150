// Misbehaving runs of real agent CLIs against the scripted model server (loopback-only network
// namespace): a denied tool call with exit code 0, a turn limit, a budget limit. Each must parse
// to a failing final with its reason. (The successful runs are in real-cli-pr.test.ts.)
import { describe, expect, it } from 'vitest'
import { canUseNetworkNamespaces } from '../model-server/netns.js'
import { claudeAdapter } from './claude.js'
import { geminiAdapter } from './gemini.js'
import { runCli } from './run-cli.test-utils.js'
import type { AgentEvent } from '../agent.js'

const root = canUseNetworkNamespaces()
if (!root) console.warn('real agent CLI tests skipped: they need root for `unshare -n` (CI runs as root)')

const write = { actions: [{ write: { path: 'src/hello.txt', content: 'hello\n' } }], final: 'Wrote src/hello.txt.' }
const finalOf = (events: AgentEvent[]): AgentEvent | undefined => events.filter((e) => e.type === 'final').at(-1)
const claudeEnv = { ANTHROPIC_API_KEY: 'scripted-key' }

describe.skipIf(!root)('real agent CLIs that misbehave', () => {
  it('claude: every tool call denied, exit code 0 — the final is `denied`', async () => {
    const adapter = claudeAdapter({ template: { args: ['-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', 'default', '--', '{prompt}'] } })
    const run = await runCli(adapter, { script: write, env: claudeEnv })
    expect(run.code).toBe(0)
    expect(run.events).toContainEqual({ type: 'tool_result', name: 'Write', ok: false, denied: true })
    expect(run.events.some((e) => e.type === 'file_change')).toBe(false)
    expect(finalOf(run.events)).toMatchObject({ ok: false, reason: 'denied' })
  }, 60_000)

  it('claude: --max-turns reached — `turn_limit`', async () => {
    const run = await runCli(claudeAdapter(), {
      script: { actions: [{ shell: 'true' }, { shell: 'true' }, { shell: 'true' }], final: 'never reached' },
      spec: { limits: { maxTurns: 1 } },
      env: claudeEnv
    })
    expect(run.code).not.toBe(0)
    expect(finalOf(run.events)).toMatchObject({ ok: false, reason: 'turn_limit' })
  }, 60_000)

  it('claude: --max-budget-usd spent — `budget`, with the cost reported', async () => {
    const run = await runCli(claudeAdapter(), {
      script: { actions: [{ shell: 'true' }, { shell: 'true' }, { shell: 'true' }], final: 'never reached', usage: { inputTokens: 2_000_000, outputTokens: 100_000 } },
      spec: { limits: { maxBudgetUsd: 0.5 } },
      env: claudeEnv
    })
    expect(finalOf(run.events)).toMatchObject({ ok: false, reason: 'budget' })
    const usage = run.events.find((e) => e.type === 'usage')
    expect(usage?.type === 'usage' && (usage.costUsd ?? 0) > 0.5).toBe(true)
  }, 60_000)

  it('gemini: a shell call its policy blocks ("success", exit code 0) — `denied`', async () => {
    const run = await runCli(geminiAdapter(), {
      script: { actions: [{ shell: 'echo $(date) > when.txt' }], final: 'Done.' },
      spec: { model: 'gemini-2.5-flash' },
      env: { GEMINI_API_KEY: 'scripted-key' }
    })
    expect(run.code).toBe(0)
    expect(run.events).toContainEqual({ type: 'tool_result', name: 'run_shell_command', ok: false, denied: true })
    expect(finalOf(run.events)).toMatchObject({ ok: false, reason: 'denied' })
  }, 90_000)
})
