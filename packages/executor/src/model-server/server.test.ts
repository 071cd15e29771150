// The scripted model server over real HTTP: each API's wire shape, as the clients read it.
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Ollama } from 'ollama'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { canUseNetworkNamespaces, inLoopbackNamespace, loopbackEnv } from './netns.js'
import { createScriptedModelServer, type ScriptedModelServer } from './server.js'

let server: ScriptedModelServer
let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bzzz-msrv-'))
  server = createScriptedModelServer({
    script: { actions: [{ tool: { name: 'Write', input: { file_path: '/w/x', content: 'y' } } }], final: 'finished' },
    socketPath: join(dir, 'm.sock')
  })
  await server.start()
})
afterEach(async () => {
  await server.stop()
  await rm(dir, { recursive: true, force: true })
})

async function post (path: string, body: unknown): Promise<{ status: number, text: string }> {
  const res = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, text: await res.text() }
}

function sseData (text: string): Array<Record<string, unknown>> {
  return text.split('\n').filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]').map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>)
}

describe('scripted model server', () => {
  it('Anthropic Messages, streamed: a tool_use, then (with it in the history) the final text', async () => {
    const first = await post('/v1/messages', { model: 'm', stream: true, tools: [{ name: 'Write' }], messages: [{ role: 'user', content: 'go' }] })
    const events = sseData(first.text)
    expect(events.map((e) => e.type)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'])
    expect(events[1]).toMatchObject({ content_block: { type: 'tool_use', name: 'Write' } })
    expect(JSON.parse(String((events[2]?.delta as { partial_json: string }).partial_json))).toEqual({ file_path: '/w/x', content: 'y' })
    expect(events[4]).toMatchObject({ delta: { stop_reason: 'tool_use' } })
    const second = await post('/v1/messages', { model: 'm', stream: false, tools: [{ name: 'Write' }], messages: [{ role: 'user', content: 'go' }, { role: 'assistant', content: [] }, { role: 'user', content: [] }] })
    expect(JSON.parse(second.text)).toMatchObject({ type: 'message', content: [{ type: 'text', text: 'finished' }], stop_reason: 'end_turn' })
  })

  it('OpenAI Responses, streamed: output items and a completed response with usage', async () => {
    const res = await post('/v1/responses', { model: 'm', stream: true, tools: [{ type: 'function', name: 'Write' }], input: [{ type: 'message', role: 'user', content: [] }] })
    const events = sseData(res.text)
    expect(events.map((e) => e.type)).toEqual(['response.created', 'response.output_item.added', 'response.output_item.done', 'response.completed'])
    expect(events[2]).toMatchObject({ item: { type: 'function_call', name: 'Write', call_id: 'call_0' } })
    expect(events[3]).toMatchObject({ response: { status: 'completed', usage: { input_tokens: 100, output_tokens: 20 } } })
  })

  it('Gemini streamGenerateContent: a functionCall part, then text', async () => {
    const res = await post('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', {
      contents: [{ role: 'user', parts: [{ text: 'go' }] }, { role: 'model', parts: [] }],
      tools: [{ functionDeclarations: [{ name: 'Write' }] }]
    })
    expect(sseData(res.text)[0]).toMatchObject({ candidates: [{ content: { role: 'model', parts: [{ text: 'finished' }] } }], modelVersion: 'gemini-2.5-flash' })
  })

  it('Ollama: the official client lists the models and chats', async () => {
    const ollama = new Ollama({ host: server.url })
    expect((await ollama.list()).models.map((m) => m.name)).toEqual(['scripted'])
    const reply = await ollama.chat({ model: 'scripted', messages: [{ role: 'user', content: 'go' }], tools: [{ type: 'function', function: { name: 'Write', parameters: { type: 'object', properties: {} } } }] })
    expect(reply.message.tool_calls?.[0]?.function).toEqual({ name: 'Write', arguments: { file_path: '/w/x', content: 'y' } })
    const stream = await ollama.chat({ model: 'scripted', stream: true, messages: [{ role: 'user', content: 'go' }, { role: 'assistant', content: '' }] })
    let text = ''
    for await (const part of stream) text += part.message.content
    expect(text).toBe('finished')
  })

  it('records every request; an unknown path is 404; a script it cannot follow is 500 with the reason', async () => {
    expect((await post('/v1/other', {})).status).toBe(404)
    server.script = { actions: [{ shell: 'ls' }], final: '' }
    const res = await post('/v1/messages', { model: 'm', tools: [{ name: 'Read' }], messages: [] })
    expect(res.status).toBe(500)
    expect(server.requests.at(-1)).toMatchObject({ api: 'anthropic', error: expect.stringContaining('no matching tool') })
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/other', '/v1/messages'])
  })

  it('waits delayMs before each reply (a slow model)', async () => {
    server.script = { ...server.script, delayMs: 300 }
    const started = Date.now()
    await post('/v1/messages', { model: 'm', messages: [] })
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
  })

  it('answers on its Unix socket too', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const req = request({ socketPath: join(dir, 'm.sock'), path: '/api/tags' }, (res) => {
        let body = ''
        res.on('data', (d: Buffer) => { body += d.toString() })
        res.on('end', () => resolve(body))
      })
      req.on('error', reject)
      req.end()
    })
    expect(JSON.parse(text)).toMatchObject({ models: [{ name: 'scripted' }] })
  })
})

describe.skipIf(!canUseNetworkNamespaces())('loopback-only network namespace', () => {
  it('a command inside reaches the server through the bridge, and has no interface but lo', async () => {
    const code = `const r = await fetch('http://127.0.0.1:${server.port}/api/tags'); console.log((await r.json()).models[0].name)`
    const node = inLoopbackNamespace({ file: process.execPath, args: ['--input-type=module', '-e', code] })
    const { stdout } = await promisify(execFile)(node.file, node.args, { env: { ...process.env, ...loopbackEnv([{ port: server.port, socketPath: join(dir, 'm.sock') }]) } })
    expect(stdout.trim()).toBe('scripted')
    const ip = inLoopbackNamespace({ file: 'ip', args: ['-o', 'link'] })
    const links = await promisify(execFile)(ip.file, ip.args, { env: { ...process.env, ...loopbackEnv([]) } })
    expect(links.stdout.trim().split('\n').map((l) => l.split(':')[1]?.trim())).toEqual(['lo'])
  })

  it('passes the command\'s exit status through', async () => {
    const cmd = inLoopbackNamespace({ file: 'sh', args: ['-c', 'exit 7'] })
    await expect(promisify(execFile)(cmd.file, cmd.args, { env: { ...process.env, ...loopbackEnv([]) } })).rejects.toMatchObject({ code: 7 })
  })
})
