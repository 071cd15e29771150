// Help and delegation with the asker as a real `bzzz start` process: configured with the Ollama
// agent only and `agent.escalate: claude` (BZZZ_* variables), on loopback TCP. A claude-capable
// peer (the real `claude` CLI in a loopback-only network namespace; in this process, as only a
// test can point claude at the scripted model server) bootstraps to it once it asked for help,
// offers, is accepted, takes the task over through the claim and finishes from the daemon's
// WIP branch: one pull request with both parts.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ScriptedModelServer } from '@bzzz/executor'
import type { Forge } from '@bzzz/forge'
import { OLLAMA_MODEL, canRunRealClaude, claudeNode, expectOnePullRequestWithBothParts, startModels } from './test-delegation.js'
import type { BzzzNode } from './node.js'
import { api, buildCli, cleanup, events, initDaemon, startDaemonProc, tempRoot, type DaemonProc } from './test-daemons.js'
import { REPO, testForge, waitFor } from './test-utils.js'

describe.skipIf(!canRunRealClaude)('help and delegation: the asker a daemon process', () => {
  let dir: string
  let root: string
  let forge: Forge
  let ollama: ScriptedModelServer
  let anthropic: ScriptedModelServer
  let socketPath: string
  let asker: DaemonProc | undefined
  let helper: BzzzNode | undefined

  beforeAll(async () => {
    await buildCli()
    dir = await mkdtemp(join(tmpdir(), 'bzzz-delegation-daemon-'))
    root = await tempRoot()
    ;({ ollama, anthropic, socketPath } = await startModels(dir))
    forge = await testForge(['ollama', 'claude'], [{ title: 'Outline and solve', body: 'Write outline.md, then solution.md.', author: 'maintainer', labels: ['bzzz'] }])
  }, 120_000)

  afterAll(async () => {
    await helper?.kill()
    await cleanup(root, asker !== undefined ? [asker] : [])
    await forge?.close()
    await ollama?.stop()
    await anthropic?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('the daemon escalates its failed Ollama run; the claude peer finishes it: one pull request with both parts', async () => {
    const t0 = Date.now()
    asker = await initDaemon(root, 'ollama', forge, {
      env: {
        BZZZ_AGENT__KIND: 'ollama',
        BZZZ_AGENT__MODEL: OLLAMA_MODEL,
        BZZZ_AGENT__ESCALATE: 'claude',
        BZZZ_CAPABILITIES__INSTALLED: 'ollama',
        BZZZ_CAPABILITIES__MODELS: OLLAMA_MODEL,
        BZZZ_CAPABILITIES__OLLAMA_HOST: ollama.url
      }
    })
    await startDaemonProc(asker)
    const a = asker
    const roles = (d: DaemonProc): string[] => events(d, 'task:help').map((l) => String(l.role))
    await waitFor('the daemon\'s request for help', () => roles(a).includes('asked'), 90_000)
    const askedAt = Date.now()

    helper = await claudeNode(forge, dir, anthropic, socketPath, {
      mesh: { transport: 'tcp', listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [a.address!], meshName: 'bzzz', mdns: false }
    })
    const h = helper
    const helperRoles: string[] = []
    h.on('task:help', (e) => { helperRoles.push(e.role) })
    await h.start()
    const key = `${REPO}#1`
    await waitFor('done on both', async () => h.tasks().find((t) => t.key === key)?.status === 'done' &&
      (await api<Array<{ key: string, status: string }>>(a, '/api/tasks')).find((t) => t.key === key)?.status === 'done', 120_000)
    console.log(JSON.stringify({ metric: 'delegation_daemon', ask_s: Number(((askedAt - t0) / 1000).toFixed(1)), total_s: Number(((Date.now() - t0) / 1000).toFixed(1)) }))

    expect(roles(a)).toEqual(['asked', 'accepted'])
    expect(helperRoles).toEqual(['offered', 'taken'])
    expect(events(a, 'task:released').map((l) => l.reason)).toEqual([`delegated to ${h.nodeId}`])
    expect(h.tasks().find((t) => t.key === key)).toMatchObject({ attempt: 2, holder: { node: h.nodeId } })
    await expectOnePullRequestWithBothParts(forge, dir)
    // The daemon's WIP note reached the helper over meta_discussion; both logs hold it and the acceptance.
    const daemonLog = await api<{ entries: Array<{ type: string, payload: { body?: string } }> }>(a, '/api/log?limit=1000')
    for (const entries of [daemonLog.entries, h.store.logRange(h.nodeId, 0, h.store.logHead(h.nodeId).length) as Array<{ type: string, payload: { body?: string } }>]) {
      expect(entries.some((e) => e.type === 'meta_note' && String(e.payload.body).startsWith('wip bzzz-ollama/tasks'))).toBe(true)
      expect(entries.some((e) => e.type === 'help_accepted')).toBe(true)
    }
  }, 240_000)
})
