// OpenAI Responses API (`POST /v1/responses`, SSE) and Chat Completions (`POST /v1/chat/completions`).
import type { Reply, RequestView } from './script.js'
import { asArray, asRecord, collectText, type Usage } from './wire.js'

const CALL_ITEMS = new Set(['function_call', 'custom_tool_call', 'local_shell_call'])

export function responsesView (body: unknown): RequestView {
  const req = asRecord(body)
  const input = asArray(req.input)
  return {
    assistantTurns: input.filter((i) => {
      const item = asRecord(i)
      return CALL_ITEMS.has(String(item.type)) || (item.type === 'message' && item.role === 'assistant')
    }).length,
    tools: asArray(req.tools).map((t) => asRecord(t).name).filter((n): n is string => typeof n === 'string'),
    text: collectText([req.instructions, input])
  }
}

function outputItem (reply: Reply): Record<string, unknown> {
  if (reply.kind === 'text') {
    return { type: 'message', id: 'msg_scripted', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: reply.text, annotations: [] }] }
  }
  return { type: 'function_call', id: `fc_${reply.id}`, call_id: reply.id, name: reply.name, arguments: JSON.stringify(reply.input), status: 'completed' }
}

export function responsesStream (reply: Reply, model: string, usage: Usage): string[] {
  const item = outputItem(reply)
  const base = { id: `resp_${Date.now()}`, object: 'response', created_at: Math.floor(Date.now() / 1000), model }
  let seq = 0
  const ev = (type: string, data: Record<string, unknown>): string =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`
  const out = [ev('response.created', { response: { ...base, status: 'in_progress', output: [] } })]
  out.push(ev('response.output_item.added', { output_index: 0, item: reply.kind === 'text' ? { ...item, status: 'in_progress', content: [] } : item }))
  if (reply.kind === 'text') {
    out.push(ev('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: reply.text }))
  }
  out.push(ev('response.output_item.done', { output_index: 0, item }))
  out.push(ev('response.completed', {
    response: {
      ...base,
      status: 'completed',
      output: [item],
      usage: {
        input_tokens: usage.inputTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: usage.outputTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: usage.inputTokens + usage.outputTokens
      }
    }
  }))
  return out
}

export function chatView (body: unknown): RequestView {
  const req = asRecord(body)
  const messages = asArray(req.messages)
  return {
    assistantTurns: messages.filter((m) => asRecord(m).role === 'assistant').length,
    tools: asArray(req.tools).map((t) => asRecord(asRecord(t).function).name).filter((n): n is string => typeof n === 'string'),
    text: collectText(messages)
  }
}

export function chatStream (reply: Reply, model: string, usage: Usage): string[] {
  const base = { id: `chatcmpl_${Date.now()}`, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model }
  const chunk = (delta: unknown, finish: string | null, extra: Record<string, unknown> = {}): string =>
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`
  const out = [chunk({ role: 'assistant', content: '' }, null)]
  if (reply.kind === 'text') out.push(chunk({ content: reply.text }, null))
  else out.push(chunk({ tool_calls: [{ index: 0, id: reply.id, type: 'function', function: { name: reply.name, arguments: JSON.stringify(reply.input) } }] }, null))
  out.push(chunk({}, reply.kind === 'tool' ? 'tool_calls' : 'stop', {
    usage: { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens, total_tokens: usage.inputTokens + usage.outputTokens }
  }))
  out.push('data: [DONE]\n\n')
  return out
}

export function chatMessage (reply: Reply, model: string, usage: Usage): unknown {
  return {
    id: `chatcmpl_${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{
      index: 0,
      message: reply.kind === 'text'
        ? { role: 'assistant', content: reply.text }
        : { role: 'assistant', content: null, tool_calls: [{ id: reply.id, type: 'function', function: { name: reply.name, arguments: JSON.stringify(reply.input) } }] },
      finish_reason: reply.kind === 'tool' ? 'tool_calls' : 'stop'
    }],
    usage: { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens, total_tokens: usage.inputTokens + usage.outputTokens }
  }
}
