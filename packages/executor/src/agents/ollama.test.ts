// The Ollama adapter's edit loop against the scripted model server's Ollama API, on a real git
// workspace: diffs checked with `git apply --check`, applied, the result fed back.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AgentEvent } from '../agent.js'
import { createScriptedModelServer, type ScriptedModelServer } from '../model-server/server.js'
import { ollamaAdapter } from './ollama.js'
import { git, makeWorkspace } from './run-cli.test-utils.js'

const newFile = '```diff\n--- /dev/null\n+++ b/docs/hello.md\n@@ -0,0 +1,2 @@\n+# Hello\n+from the model\n```\n'
const editReadme = 'Here it is:\n```diff\n--- a/README.md\n+++ b/README.md\n@@ -1 +1,2 @@\n # scripted\n+Edited by the model.\n```'
const badDiff = '```diff\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-# not what is there\n+# nope\n```'

let root: string
let ws: string
let server: ScriptedModelServer
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'bzzz-ollama-'))
  ws = await makeWorkspace(root)
  server = createScriptedModelServer({ script: { actions: [], final: 'Done.' }, models: ['qwen2.5-coder'] })
  await server.start()
})
afterEach(async () => {
  await server.stop()
  await rm(root, { recursive: true, force: true })
})

async function run (limits?: { maxTurns?: number, maxTokens?: number }, signal = new AbortController().signal): Promise<AgentEvent[]> {
  const events: AgentEvent[] = []
  await ollamaAdapter().run(
    { prompt: 'Add a greeting.', cwd: ws, endpoint: { baseUrl: server.url }, ...(limits != null ? { limits } : {}) },
    { signal, onEvent: (e) => events.push(e) }
  )
  return events
}

describe('ollama adapter', () => {
  it('applies each proposed diff, then ends on the reply without one', async () => {
    server.script = { actions: [{ text: newFile }, { text: editReadme }], final: 'All done.' }
    const events = await run()
    expect(await readFile(join(ws, 'docs/hello.md'), 'utf8')).toBe('# Hello\nfrom the model\n')
    expect(await readFile(join(ws, 'README.md'), 'utf8')).toBe('# scripted\nEdited by the model.\n')
    expect(events.filter((e) => e.type === 'file_change')).toEqual([
      { type: 'file_change', path: 'docs/hello.md' },
      { type: 'file_change', path: 'README.md' }
    ])
    expect(events.at(-1)).toEqual({ type: 'final', ok: true, reason: 'completed', text: 'All done.' })
    expect(events.filter((e) => e.type === 'usage')).toHaveLength(3)
    // The model saw the files and the results of its diffs.
    const last = server.requests.filter((r) => r.api === 'ollama').at(-1)?.body as { model: string, messages: Array<{ role: string, content: string }> }
    expect(last.model).toBe('qwen2.5-coder')
    expect(last.messages[1]?.content).toContain('README.md')
    expect(last.messages.filter((m) => m.content === 'The diff was applied.')).toHaveLength(2)
  })

  it('a diff that does not apply is refused, nothing changes, and git\'s complaint goes back to the model', async () => {
    server.script = { actions: [{ text: badDiff }], final: 'Gave up.' }
    const events = await run()
    expect(events).toContainEqual({ type: 'tool_result', name: 'apply_patch', ok: false })
    expect(events.some((e) => e.type === 'file_change')).toBe(false)
    expect(await git(ws, 'status', '--porcelain')).toBe('')
    const last = server.requests.filter((r) => r.api === 'ollama').at(-1)?.body as { messages: Array<{ content: string }> }
    expect(last.messages.at(-1)?.content).toMatch(/not applied; git apply --check said:\n.*(patch failed|does not apply)/s)
  })

  it('stops at the round limit with turn_limit, and at the token limit with token_limit', async () => {
    server.script = { actions: [{ text: newFile }, { text: editReadme }, { text: badDiff }], final: 'x' }
    expect((await run({ maxTurns: 1 })).at(-1)).toMatchObject({ type: 'final', ok: false, reason: 'turn_limit' })
    await git(ws, 'checkout', '.')
    await git(ws, 'clean', '-fdq')
    server.script = { ...server.script, usage: { inputTokens: 600, outputTokens: 500 } }
    expect((await run({ maxTokens: 1000 })).at(-1)).toMatchObject({ type: 'final', ok: false, reason: 'token_limit' })
  })

  it('an unreachable server is a final error; an abort rejects with the signal\'s reason', async () => {
    const events: AgentEvent[] = []
    await ollamaAdapter({ host: 'http://127.0.0.1:9' }).run({ prompt: 'x', cwd: ws }, { signal: new AbortController().signal, onEvent: (e) => events.push(e) })
    expect(events.at(-1)).toMatchObject({ type: 'final', ok: false, reason: 'error' })
    const controller = new AbortController()
    controller.abort(new Error('cancelled'))
    await expect(run(undefined, controller.signal)).rejects.toThrow('cancelled')
  })

  it('an abort mid-run (after the first reply) rejects and stops the loop', async () => {
    server.script = { actions: [{ text: newFile }, { text: editReadme }], final: 'x' }
    const controller = new AbortController()
    const events: AgentEvent[] = []
    const running = ollamaAdapter().run({ prompt: 'x', cwd: ws, endpoint: { baseUrl: server.url } }, {
      signal: controller.signal,
      onEvent: (e) => { events.push(e); if (e.type === 'usage') controller.abort(new Error('claim lost')) }
    })
    await expect(running).rejects.toThrow('claim lost')
    expect(events.some((e) => e.type === 'final')).toBe(false)
    expect(server.requests.filter((r) => r.api === 'ollama')).toHaveLength(1)
  })
})
