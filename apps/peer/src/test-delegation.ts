// Shared by the delegation tests with real agents: the scripted models behind an Ollama-only
// peer and a claude-capable peer, the claude peer itself (the real `claude` CLI in a
// loopback-only network namespace), and the check of the one pull request.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect } from 'vitest'
import { canUseNetworkNamespaces, createAgentAdapter, createScriptedModelServer, withLoopbackNamespace, type CliAgentAdapter, type ScriptedModelServer } from '@bzzz/executor'
import type { Forge } from '@bzzz/forge'
import type { BzzzNode, NodeInit } from './node.js'
import { REPO, pullRequests, testNode } from './test-utils.js'

const exec = promisify(execFile)
const EXECUTOR_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'packages', 'executor', 'node_modules', '.bin')

/** Root, `unshare` and the claude CLI: what the real claude peer needs (CI has them). */
export const canRunRealClaude = canUseNetworkNamespaces() && existsSync('/usr/bin/unshare') && existsSync(join(EXECUTOR_BIN, 'claude'))

const fence = '`'.repeat(3)
const outline = `I start with the outline.\n${fence}diff\n--- /dev/null\n+++ b/outline.md\n@@ -0,0 +1 @@\n+Outline by the Ollama model.\n${fence}\n`
// A diff that never applies (wrong context): the model is stuck until its round limit.
const stuck = `${fence}diff\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-# something else\n+# changed\n${fence}\n`

export const OLLAMA_MODEL = 'qwen2.5-coder'

/** The model servers: Ollama writes outline.md, then is stuck until its 8 rounds are used up; claude writes solution.md. */
export async function startModels (dir: string): Promise<{ ollama: ScriptedModelServer, anthropic: ScriptedModelServer, socketPath: string }> {
  const socketPath = join(dir, 'anthropic.sock')
  const ollama = createScriptedModelServer({ script: { actions: [{ text: outline }, ...Array.from({ length: 7 }, () => ({ text: stuck }))], final: 'x' }, models: [OLLAMA_MODEL] })
  const anthropic = createScriptedModelServer({
    script: { actions: [{ write: { path: 'solution.md', content: 'Solution by claude, after the outline.\n' } }], final: 'Wrote solution.md.' },
    socketPath
  })
  await ollama.start()
  await anthropic.start()
  return { ollama, anthropic, socketPath }
}

/** The claude-capable peer (forge account `bzzz-claude`): the real CLI, only the scripted Anthropic endpoint reachable. */
export async function claudeNode (forge: Forge, dir: string, anthropic: ScriptedModelServer, socketPath: string, extra: Partial<NodeInit> = {}): Promise<BzzzNode> {
  const home = join(dir, 'claude-home')
  await mkdir(home, { recursive: true })
  return await testNode({
    name: 'claude',
    forge,
    executor: false,
    capabilities: { installed: ['claude'] },
    extra: {
      agent: withLoopbackNamespace(createAgentAdapter('claude') as CliAgentAdapter, [{ port: anthropic.port, socketPath }]),
      agentOptions: {
        identity: { name: 'bzzz-claude', email: 'claude@bzzz.local' },
        wipIntervalMs: 0,
        limits: { wallClockMs: 90_000 },
        endpoint: { baseUrl: anthropic.url, apiKeyEnv: 'SCRIPTED_API_KEY' },
        env: {
          PATH: `${dirname(process.execPath)}:${EXECUTOR_BIN}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
          HOME: home,
          SCRIPTED_API_KEY: 'dummy',
          ANTHROPIC_API_KEY: 'dummy'
        }
      },
      ...extra
    }
  })
}

/**
 * Exactly one pull request, by the claude peer, holding the Ollama peer's outline (its commit)
 * and claude's solution; no failure report (the Ollama failure became the request for help).
 */
export async function expectOnePullRequestWithBothParts (forge: Forge, dir: string): Promise<void> {
  const comments = await fetch(`${forge.url}/repos/${REPO}/issues/1/comments?per_page=100`, { headers: { authorization: 'token tok-maintainer' } })
  expect((await comments.json() as Array<{ body: string }>).filter((c) => c.body.includes('<!-- bzzz:failure'))).toEqual([])
  const prs = await pullRequests(forge)
  expect(prs).toHaveLength(1)
  expect(prs[0]!.user).toBe('bzzz-claude')
  const check = join(dir, 'check')
  await exec('git', ['clone', '-q', forge.gitUrl('bzzz-claude', 'tasks'), check])
  await exec('git', ['fetch', '-q', forge.gitUrl('acme', 'tasks'), 'main:upstream'], { cwd: check })
  await exec('git', ['fetch', '-q', 'origin', `${prs[0]!.head.split(':')[1]!}:task`], { cwd: check })
  const files = (await exec('git', ['diff', '--name-only', 'upstream', 'task'], { cwd: check })).stdout.split('\n').filter(Boolean).sort()
  expect(files).toEqual(['outline.md', 'solution.md'])
  const authors = (await exec('git', ['log', '--format=%an', 'upstream..task'], { cwd: check })).stdout.split('\n').filter(Boolean)
  expect(new Set(authors)).toEqual(new Set(['bzzz-ollama', 'bzzz-claude']))
}
