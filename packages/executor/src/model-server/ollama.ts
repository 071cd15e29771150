// Ollama API (`POST /api/chat`, NDJSON stream or one object; `GET /api/tags`).
import type { Reply, RequestView } from './script.js'
import { asArray, asRecord, collectText, type Usage } from './wire.js'

export function ollamaView (body: unknown): RequestView {
  const req = asRecord(body)
  const messages = asArray(req.messages)
  return {
    assistantTurns: messages.filter((m) => asRecord(m).role === 'assistant').length,
    tools: asArray(req.tools).map((t) => asRecord(asRecord(t).function).name).filter((n): n is string => typeof n === 'string'),
    text: collectText(messages)
  }
}

function message (reply: Reply): Record<string, unknown> {
  return reply.kind === 'text'
    ? { role: 'assistant', content: reply.text }
    : { role: 'assistant', content: '', tool_calls: [{ function: { name: reply.name, arguments: reply.input } }] }
}

export function ollamaChat (reply: Reply, model: string, usage: Usage): Record<string, unknown> {
  return {
    model,
    created_at: new Date().toISOString(),
    message: message(reply),
    done: true,
    done_reason: 'stop',
    total_duration: 1_000_000,
    prompt_eval_count: usage.inputTokens,
    eval_count: usage.outputTokens
  }
}

export function ollamaStream (reply: Reply, model: string, usage: Usage): string[] {
  const done = ollamaChat(reply, model, usage)
  return [
    JSON.stringify({ model, created_at: done.created_at, message: message(reply), done: false }) + '\n',
    JSON.stringify({ ...done, message: { role: 'assistant', content: '' } }) + '\n'
  ]
}

export function ollamaTags (models: string[]): unknown {
  return {
    models: models.map((name) => ({
      name,
      model: name,
      modified_at: new Date(0).toISOString(),
      size: 1,
      digest: '0'.repeat(64),
      details: { format: 'gguf', family: 'scripted', families: ['scripted'], parameter_size: '1B', quantization_level: 'Q4_0' }
    }))
  }
}
