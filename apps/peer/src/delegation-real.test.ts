// Help and delegation end to end with real agents (issue 12): an Ollama-only peer, built by the
// daemon's own wiring (`nodeFromConfig`, `agent.escalate: claude`), and a claude-capable peer
// running the real `claude` CLI in a loopback-only network namespace; a scripted model server
// behind each. The Ollama model writes part of the work, then proposes diffs that never apply
// until its round limit: the run fails after pushing its WIP, and instead of a failure report
// the peer asks the mesh for `claude`. The claude peer offers, is accepted, takes the task over
// through the claim (the asker released it in its favour), continues from the asker's WIP branch
// and opens exactly one pull request holding both peers' work.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ScriptedModelServer } from '@bzzz/executor'
import type { Forge } from '@bzzz/forge'
import { pino } from 'pino'
import { loadConfig } from './config.js'
import { nodeFromConfig } from './daemon.js'
import { OLLAMA_MODEL, canRunRealClaude, claudeNode, expectOnePullRequestWithBothParts, startModels } from './test-delegation.js'
import type { NodeEvents } from './events.js'
import type { BzzzNode } from './node.js'
import { FAST_TIMINGS, REPO, connectAll, testForge, waitFor } from './test-utils.js'

if (!canRunRealClaude) console.warn('real delegation test skipped: it needs root, unshare and the claude CLI (CI has them)')

describe.skipIf(!canRunRealClaude)('help and delegation with real agents', () => {
  let dir: string
  let forge: Forge
  let ollama: ScriptedModelServer
  let anthropic: ScriptedModelServer
  let socketPath: string
  const nodes: BzzzNode[] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bzzz-delegation-'))
    ;({ ollama, anthropic, socketPath } = await startModels(dir))
    forge = await testForge(['ollama', 'claude'], [{ title: 'Outline and solve', body: 'Write outline.md, then solution.md.', author: 'maintainer', labels: ['bzzz'] }])
  })

  afterAll(async () => {
    await Promise.all(nodes.map(async (n) => { await n.kill() }))
    await forge?.close()
    await ollama?.stop()
    await anthropic?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('an Ollama-only peer escalates to a claude peer, which finishes from its WIP: one pull request with both parts', async () => {
    const t0 = Date.now()
    // The asker: the daemon's configuration and wiring (escalation included).
    const askerDir = join(dir, 'ollama')
    await mkdir(askerDir, { recursive: true })
    await writeFile(join(dir, 'ollama.token'), 'tok-ollama\n', { mode: 0o600 })
    const configPath = join(askerDir, 'config.yaml')
    await writeFile(configPath, [
      'name: ollama',
      `dataDir: ${askerDir}`,
      `github: { apiUrl: '${forge.url}', gitUrl: '${forge.url}', tokenFile: '${join(dir, 'ollama.token')}' }`,
      `repos: [${REPO}]`,
      'mesh: { transport: memory, name: test }',
      'http: { enabled: false }',
      `agent: { kind: ollama, model: ${OLLAMA_MODEL}, escalate: claude }`,
      `capabilities: { detect: false, models: [${OLLAMA_MODEL}], ollamaHost: '${ollama.url}' }`,
      'git: { name: bzzz-ollama, email: ollama@bzzz.local }'
    ].join('\n'))
    const { config } = await loadConfig({ path: configPath, env: {} })
    const logger = pino({ level: process.env.BZZZ_TEST_LOG ?? 'silent', base: { node: 'ollama' } }, pino.destination(2))
    const asker = (await nodeFromConfig(config, logger, {
      env: {},
      // Test timings, and no write throttle (the forge is local).
      overrides: {
        github: { token: 'tok-ollama', baseUrl: forge.url, gitBaseUrl: forge.url, throttle: { writeMinTimeMs: 0, notificationMinTimeMs: 0 } },
        timings: { ...FAST_TIMINGS, helpTimeoutMs: 40_000 }
      }
    })).node
    nodes.push(asker)

    // The helper: the real claude CLI, only the scripted Anthropic endpoint reachable.
    const helper = await claudeNode(forge, dir, anthropic, socketPath)
    nodes.push(helper)

    const help: string[] = []
    const notes: string[] = []
    for (const [n, name] of [[asker, 'ollama'], [helper, 'claude']] as const) {
      n.on('task:help', (e: NodeEvents['task:help'][0]) => { help.push(`${name}:${e.role}`) })
      n.on('task:note', (e) => { notes.push(`${name}:${e.body.split('\n')[0]!}`) })
    }
    const released: string[] = []
    asker.on('task:released', (e) => { released.push(e.reason) })
    const progress: string[] = []
    helper.on('task:progress', ({ event }) => { progress.push(event.text) })

    // The Ollama-only peer is alone at first: it claims the task; its model fails; it asks for claude.
    await asker.start()
    await waitFor('a request for help', () => help.includes('ollama:asked'), 60_000)
    const askedAt = Date.now()
    // The claude peer joins and hears the request (peers replay their task messages to a newcomer).
    await helper.start()
    await connectAll(nodes)
    const key = `${REPO}#1`
    await waitFor('done', () => nodes.every((n) => n.tasks().find((t) => t.key === key)?.status === 'done'), 90_000)
    console.log(JSON.stringify({ metric: 'delegation_real', ask_s: Number(((askedAt - t0) / 1000).toFixed(1)), total_s: Number(((Date.now() - t0) / 1000).toFixed(1)) }))

    const task = asker.tasks().find((t) => t.key === key)!
    expect(task.holder?.node).toBe(helper.nodeId)
    expect(task.attempt).toBe(2)
    expect(help).toEqual(['ollama:asked', 'claude:offered', 'ollama:accepted', 'claude:taken'])
    // The asker withdrew in the helper's favour: its claim released, no result of its own.
    expect(released).toEqual([`delegated to ${helper.nodeId}`])
    await expectOnePullRequestWithBothParts(forge, dir)
    expect(progress.some((p) => p.startsWith('final: ok'))).toBe(true)
    // The notes between the peers: the asker's WIP on meta_discussion, in both logs.
    expect(notes.filter((n) => n.startsWith('claude:wip bzzz-ollama/tasks')).length).toBeGreaterThan(0)
    for (const n of nodes) {
      const entries = n.store.logRange(n.nodeId, 0, n.store.logHead(n.nodeId).length)
      expect(entries.some((e) => e.type === 'meta_note' && String((e.payload as { body: string }).body).startsWith('wip bzzz-ollama/tasks'))).toBe(true)
      expect(entries.some((e) => e.type === 'help_accepted')).toBe(true)
    }
  }, 150_000)
})
