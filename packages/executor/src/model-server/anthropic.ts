// Anthropic Messages API (`POST /v1/messages`): request view and the streamed (SSE) or plain reply.
import type { Reply, RequestView } from './script.js'
import { asArray, asRecord, collectText, type Usage } from './wire.js'

export function anthropicView (body: unknown): RequestView {
  const req = asRecord(body)
  const messages = asArray(req.messages)
  return {
    assistantTurns: messages.filter((m) => asRecord(m).role === 'assistant').length,
    tools: asArray(req.tools).map((t) => asRecord(t).name).filter((n): n is string => typeof n === 'string'),
    text: collectText([req.system, messages])
  }
}

function content (reply: Reply): unknown[] {
  return reply.kind === 'text'
    ? [{ type: 'text', text: reply.text }]
    : [{ type: 'tool_use', id: `toolu_${reply.id}`, name: reply.name, input: reply.input }]
}

export function anthropicMessage (reply: Reply, model: string, usage: Usage): unknown {
  return {
    id: `msg_${reply.kind}_${Date.now()}`,
    type: 'message',
    role: 'assistant',
    model,
    content: content(reply),
    stop_reason: reply.kind === 'tool' ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens }
  }
}

function sse (event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

export function anthropicStream (reply: Reply, model: string, usage: Usage): string[] {
  const message = anthropicMessage(reply, model, usage) as Record<string, unknown>
  const out = [sse('message_start', {
    type: 'message_start',
    message: { ...message, content: [], stop_reason: null, usage: { input_tokens: usage.inputTokens, output_tokens: 1 } }
  })]
  if (reply.kind === 'text') {
    out.push(sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }))
    out.push(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: reply.text } }))
  } else {
    out.push(sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: `toolu_${reply.id}`, name: reply.name, input: {} } }))
    out.push(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(reply.input) } }))
  }
  out.push(sse('content_block_stop', { type: 'content_block_stop', index: 0 }))
  out.push(sse('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: message.stop_reason, stop_sequence: null },
    usage: { output_tokens: usage.outputTokens }
  }))
  out.push(sse('message_stop', { type: 'message_stop' }))
  return out
}
