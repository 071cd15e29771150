// One small HTTP server on 127.0.0.1 that speaks the model APIs the agent CLIs call, and answers
// from a script: which tool calls to make, with which arguments, then a final message. Each real
// CLI pointed at it really edits files. Every request is recorded for tests and debugging.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { anthropicMessage, anthropicStream, anthropicView } from './anthropic.js'
import { geminiResponse, geminiStream, geminiView } from './gemini.js'
import { chatMessage, chatStream, chatView, responsesStream, responsesView } from './openai.js'
import { ollamaChat, ollamaStream, ollamaTags, ollamaView } from './ollama.js'
import { pickReply, type ModelScript, type Reply, type RequestView } from './script.js'
import { asRecord, type Usage } from './wire.js'

export type ModelApi = 'anthropic' | 'openai-responses' | 'openai-chat' | 'gemini' | 'ollama'

export interface RecordedRequest {
  method: string
  path: string
  api?: ModelApi
  body?: unknown
  /** What the server answered (absent for requests it does not serve). */
  reply?: Reply
  error?: string
}

export interface ScriptedModelServerInit {
  script: ModelScript
  /** The workspace, for tools that take absolute paths; by default read from the CLI's prompt. */
  root?: string
  /** Model names `/api/tags` and `/v1/models` list (default `scripted`). */
  models?: string[]
  /** 0 (default): any free port. */
  port?: number
  /** Also listen on this Unix socket (for a CLI in a network namespace: see `inLoopbackNamespace`). */
  socketPath?: string
}

export interface ScriptedModelServer {
  start: () => Promise<void>
  stop: () => Promise<void>
  /** `http://127.0.0.1:PORT` (after start). */
  readonly url: string
  readonly port: number
  /** The script answers come from; replace it between runs. */
  script: ModelScript
  readonly requests: RecordedRequest[]
}

async function readBody (req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  if (text === '') return undefined
  try { return JSON.parse(text) } catch { return text }
}

function route (method: string, path: string): ModelApi | 'tags' | 'models' | undefined {
  if (method === 'POST' && /\/v1\/messages$/.test(path)) return 'anthropic'
  if (method === 'POST' && /\/responses$/.test(path)) return 'openai-responses'
  if (method === 'POST' && /\/chat\/completions$/.test(path)) return 'openai-chat'
  if (method === 'POST' && /\/models\/[^/:]+:(stream)?[gG]enerateContent$/.test(path)) return 'gemini'
  if (method === 'POST' && path === '/api/chat') return 'ollama'
  if (method === 'GET' && path === '/api/tags') return 'tags'
  if (method === 'GET' && /\/models$/.test(path)) return 'models'
  return undefined
}

function view (api: ModelApi, body: unknown): RequestView {
  switch (api) {
    case 'anthropic': return anthropicView(body)
    case 'openai-responses': return responsesView(body)
    case 'openai-chat': return chatView(body)
    case 'gemini': return geminiView(body)
    case 'ollama': return ollamaView(body)
  }
}

function respond (res: ServerResponse, api: ModelApi, path: string, body: unknown, reply: Reply, usage: Usage): void {
  const req = asRecord(body)
  const model = typeof req.model === 'string' ? req.model : (/models\/([^/:]+)/.exec(path)?.[1] ?? 'scripted')
  const streaming = api === 'gemini' ? path.includes(':stream') : (api === 'ollama' ? req.stream !== false : req.stream === true)
  if (!streaming) {
    const json = api === 'anthropic'
      ? anthropicMessage(reply, model, usage)
      : api === 'openai-chat'
        ? chatMessage(reply, model, usage)
        : api === 'gemini' ? geminiResponse(reply, model, usage) : api === 'ollama' ? ollamaChat(reply, model, usage) : undefined
    if (json === undefined) { res.writeHead(400).end(); return }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(json))
    return
  }
  const chunks = api === 'anthropic'
    ? anthropicStream(reply, model, usage)
    : api === 'openai-responses'
      ? responsesStream(reply, model, usage)
      : api === 'openai-chat'
        ? chatStream(reply, model, usage)
        : api === 'gemini' ? geminiStream(reply, model, usage) : ollamaStream(reply, model, usage)
  res.writeHead(200, { 'content-type': api === 'ollama' ? 'application/x-ndjson' : 'text/event-stream', 'cache-control': 'no-cache' })
  for (const chunk of chunks) res.write(chunk)
  res.end()
}

export function createScriptedModelServer (init: ScriptedModelServerInit): ScriptedModelServer {
  const requests: RecordedRequest[] = []
  const models = init.models ?? ['scripted']
  let port = 0
  const self: ScriptedModelServer = {
    script: init.script,
    requests,
    get url () { return `http://127.0.0.1:${port}` },
    get port () { return port },
    start,
    stop
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      const method = req.method ?? 'GET'
      const path = new URL(req.url ?? '/', 'http://x').pathname
      const body = await readBody(req)
      const record: RecordedRequest = { method, path, body }
      requests.push(record)
      const api = route(method, path)
      if (api === undefined) { res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not served by the scripted model server"}'); return }
      if (api === 'tags') { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ollamaTags(models))); return }
      if (api === 'models') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
          object: 'list',
          data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'scripted', type: 'model', display_name: id }))
        }))
        return
      }
      record.api = api
      try {
        const script = self.script
        const reply = pickReply(script, view(api, body), init.root != null ? { root: init.root } : {})
        record.reply = reply
        if (script.delayMs != null && script.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, script.delayMs))
        if (res.destroyed) return
        respond(res, api, path, body, reply, script.usage ?? { inputTokens: 100, outputTokens: 20 })
      } catch (err) {
        record.error = (err as Error).message
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: record.error } }))
      }
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err))
    })
  }
  const server = createServer(handler)
  const socketServer = init.socketPath != null ? createServer(handler) : undefined

  async function start (): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(init.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve() })
    })
    port = (server.address() as AddressInfo).port
    if (socketServer != null && init.socketPath != null) {
      const path = init.socketPath
      await rm(path, { force: true })
      await new Promise<void>((resolve, reject) => {
        socketServer.once('error', reject)
        socketServer.listen(path, () => { socketServer.off('error', reject); resolve() })
      })
    }
  }

  async function stop (): Promise<void> {
    for (const s of [server, socketServer]) {
      if (s == null || !s.listening) continue
      s.closeAllConnections()
      await new Promise<void>((resolve) => s.close(() => resolve()))
    }
  }

  return self
}
