// The request decoders read whatever a client sends without throwing, and count assistant turns.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { anthropicView } from './anthropic.js'
import { geminiView } from './gemini.js'
import { chatView, responsesView } from './openai.js'
import { ollamaView } from './ollama.js'

const views = { anthropicView, responsesView, chatView, geminiView, ollamaView }

describe('request views', () => {
  for (const [name, view] of Object.entries(views)) {
    it(`${name} never throws and gives a well-formed view`, () => {
      fc.assert(fc.property(fc.anything(), (body) => {
        const v = view(body)
        expect(Number.isInteger(v.assistantTurns) && v.assistantTurns >= 0).toBe(true)
        expect(v.tools.every((t) => typeof t === 'string')).toBe(true)
        expect(typeof v.text).toBe('string')
      }), { numRuns: 200 })
    })
  }

  it('count each API\'s assistant turns', () => {
    expect(anthropicView({ messages: [{ role: 'user' }, { role: 'assistant' }, { role: 'user' }] }).assistantTurns).toBe(1)
    expect(responsesView({ input: [{ type: 'message', role: 'user' }, { type: 'function_call' }, { type: 'function_call_output' }, { type: 'message', role: 'assistant' }] }).assistantTurns).toBe(2)
    expect(geminiView({ contents: [{ role: 'user' }, { role: 'model' }, { role: 'user' }, { role: 'model' }] }).assistantTurns).toBe(2)
    expect(ollamaView({ messages: [{ role: 'system' }, { role: 'assistant' }] }).assistantTurns).toBe(1)
  })
})
