// Help and delegation end to end: a peer whose agent cannot finish (it needs `claude`) asks the
// mesh; the claude-capable peer offers; the asker accepts and releases its claim in the helper's
// favour; the helper takes the task over through the claim and continues from the asker's WIP
// branch; one pull request. The notes between them are in the logs.
import { createAgentAdapter } from '@bzzz/executor'
import { describe, expect, it } from 'vitest'
import type { NodeEvents } from './events.js'
import { FAST_TIMINGS, REPO, connectAll, pullRequests, testMesh, waitFor } from './test-utils.js'

const mesh = testMesh()

describe('help and delegation', () => {
  it('an Ollama-only peer hands the task to a claude-capable peer, which finishes it from the WIP; one pull request', async () => {
    const f = await mesh.forge(['ollama', 'claude'], [{ title: 'Needs a strong model', body: 'Write solution.md', author: 'maintainer', labels: ['bzzz'] }])
    const asker = await mesh.node({
      name: 'ollama',
      forge: f,
      capabilities: { models: ['llama3'] },
      executor: { needs: 'claude', offers: ['llama3'] },
      extra: { timings: { ...FAST_TIMINGS, helpTimeoutMs: 30_000 } }
    })
    const helper = await mesh.node({
      name: 'claude',
      forge: f,
      capabilities: { installed: ['claude'] },
      executor: { offers: ['claude'], steps: [{ file: 'notes-{issue}.md', content: 'never written: the WIP has it\n' }, { file: 'solution.md', content: 'done\n' }] }
    })
    const nodes = [asker, helper]
    const help: Array<NodeEvents['task:help'][0] & { at: string }> = []
    for (const n of nodes) n.on('task:help', (e) => { help.push({ ...e, at: n.name! }) })
    const progress: string[] = []
    helper.on('task:progress', ({ event }) => { progress.push(event.text) })
    // The Ollama-only peer is alone at first: it claims the task, and its agent asks for claude.
    await asker.start()
    await waitFor('a request for help', () => help.some((h) => h.role === 'asked'), 60_000)
    // The claude-capable peer joins; it hears the request (peers replay their task messages to a newcomer).
    await helper.start()
    await connectAll(nodes)
    const key = `${REPO}#1`
    await waitFor('done', () => nodes.every((n) => n.tasks().find((t) => t.key === key)?.status === 'done'), 60_000)
    const task = asker.tasks().find((t) => t.key === key)!
    expect(task.holder?.node).toBe(helper.nodeId)
    expect(task.attempt).toBe(2)
    expect(help.map((h) => `${h.at}:${h.role}`)).toEqual(['ollama:asked', 'claude:offered', 'ollama:accepted', 'claude:taken'])
    expect((await pullRequests(f))).toHaveLength(1)
    // The helper continued from the asker's branch: the asker's notes were already there.
    expect(progress).toContain('notes-1.md is already there (earlier work)')
    // The WIP note went over meta_discussion into both logs.
    for (const n of nodes) {
      const entries = n.store.logRange(n.nodeId, 0, n.store.logHead(n.nodeId).length)
      expect(entries.some((e) => e.type === 'meta_note' && String((e.payload as { body: string }).body).startsWith('wip bzzz-ollama/tasks'))).toBe(true)
      expect(entries.some((e) => e.type === 'help_accepted')).toBe(true)
    }
  }, 90_000)

  it('the executor\'s own help outcome (its claude CLI is not installed) is answered by a peer offering claude', async () => {
    const f = await mesh.forge(['bare', 'claude'], [{ title: 'Needs claude', body: 'Write solution.md', author: 'maintainer', labels: ['bzzz'] }])
    // The asker's agent is claude through @bzzz/executor, but no claude is on its PATH.
    const asker = await mesh.node({
      name: 'bare',
      forge: f,
      executor: false,
      extra: {
        agent: createAgentAdapter('claude'),
        agentOptions: { identity: { name: 'bzzz-bare', email: 'bare@bzzz.local' }, env: { PATH: '/nonexistent' }, isolation: 'process-group' },
        timings: { ...FAST_TIMINGS, helpTimeoutMs: 30_000 }
      }
    })
    const helper = await mesh.node({ name: 'claude', forge: f, executor: { offers: ['claude'], steps: [{ file: 'solution.md', content: 'done\n' }] } })
    const nodes = [asker, helper]
    const asked: string[] = []
    asker.on('task:help', (e) => { if (e.role === 'asked') asked.push(e.capability) })
    await asker.start()
    await waitFor('a request for help', () => asked.length > 0, 60_000)
    expect(asked).toEqual(['claude'])
    await helper.start()
    await connectAll(nodes)
    await waitFor('done', () => nodes.every((n) => n.tasks().find((t) => t.key === `${REPO}#1`)?.status === 'done'), 60_000)
    expect(asker.tasks()[0]!.holder?.node).toBe(helper.nodeId)
    expect(await pullRequests(f)).toHaveLength(1)
  }, 90_000)
})
