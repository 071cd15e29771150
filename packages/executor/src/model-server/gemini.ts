// Gemini API (`POST /v1beta/models/{model}:streamGenerateContent?alt=sse` and `:generateContent`).
import type { Reply, RequestView } from './script.js'
import { asArray, asRecord, collectText, type Usage } from './wire.js'

export function geminiView (body: unknown): RequestView {
  const req = asRecord(body)
  const contents = asArray(req.contents)
  const tools = asArray(req.tools).flatMap((t) => asArray(asRecord(t).functionDeclarations ?? asRecord(t).function_declarations))
  return {
    assistantTurns: contents.filter((c) => asRecord(c).role === 'model').length,
    tools: tools.map((d) => asRecord(d).name).filter((n): n is string => typeof n === 'string'),
    text: collectText([req.systemInstruction ?? req.system_instruction, contents])
  }
}

export function geminiResponse (reply: Reply, model: string, usage: Usage): unknown {
  const part = reply.kind === 'text' ? { text: reply.text } : { functionCall: { id: reply.id, name: reply.name, args: reply.input } }
  return {
    candidates: [{ content: { role: 'model', parts: [part] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: usage.inputTokens, candidatesTokenCount: usage.outputTokens, totalTokenCount: usage.inputTokens + usage.outputTokens },
    modelVersion: model
  }
}

export function geminiStream (reply: Reply, model: string, usage: Usage): string[] {
  return [`data: ${JSON.stringify(geminiResponse(reply, model, usage))}\r\n\r\n`]
}
