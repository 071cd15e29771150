// The CLI output parsers: real captured output (fixtures/, from runs against the scripted model
// server; see the README) gives the expected typed events, and no line of any shape makes a
// parser throw.
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { AgentEvent } from '../agent.js'
import { claudeParser } from './claude.js'
import { codexParser } from './codex.js'
import { geminiParser } from './gemini.js'
import { opencodeParser } from './opencode.js'

function parseFixture (parser: () => (line: string) => AgentEvent[], name: string): AgentEvent[] {
  const parse = parser()
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').split('\n').flatMap((l) => parse(l))
}

const finalOf = (events: AgentEvent[]): AgentEvent | undefined => events.filter((e) => e.type === 'final').at(-1)

describe('claude stream-json', () => {
  it('a write: tool call, successful result, file change, usage with cost, completed', () => {
    const events = parseFixture(claudeParser, 'claude-write.jsonl')
    expect(events).toEqual([
      { type: 'tool_call', name: 'Write', input: { file_path: '/work/ws/hello.txt', content: 'hello from the script\n' } },
      { type: 'tool_result', name: 'Write', ok: true },
      { type: 'file_change', path: '/work/ws/hello.txt' },
      { type: 'message', text: 'Done: wrote hello.txt' },
      { type: 'usage', inputTokens: 200, outputTokens: 40, costUsd: 0.0016 },
      { type: 'final', ok: true, reason: 'completed', text: 'Done: wrote hello.txt' }
    ])
  })

  it('every tool call denied: exit 0 and "success", but the final is a denial', () => {
    const events = parseFixture(claudeParser, 'claude-denied.jsonl')
    expect(events).toContainEqual({ type: 'tool_result', name: 'Write', ok: false, denied: true })
    expect(events.some((e) => e.type === 'file_change')).toBe(false)
    expect(finalOf(events)).toMatchObject({ ok: false, reason: 'denied' })
  })

  it('--max-turns reached: turn_limit', () => {
    const events = parseFixture(claudeParser, 'claude-max-turns.jsonl')
    expect(finalOf(events)).toEqual({ type: 'final', ok: false, reason: 'turn_limit', text: 'Reached maximum number of turns (1)' })
  })

  it('a budget stop is `budget`', () => {
    const parse = claudeParser()
    expect(parse('{"type":"result","subtype":"error_max_budget_usd","is_error":true,"total_cost_usd":2.5,"usage":{}}'))
      .toContainEqual({ type: 'final', ok: false, reason: 'budget', text: '' })
  })
})

describe('codex exec --json', () => {
  it('a shell write: tool call and result, message, usage, completed; the warning item is an error event', () => {
    const events = parseFixture(codexParser, 'codex-write.jsonl')
    expect(events[0]).toMatchObject({ type: 'error' })
    expect(events.slice(1)).toEqual([
      { type: 'tool_call', name: 'shell', input: { command: expect.stringContaining('base64 -d') } },
      { type: 'tool_result', name: 'shell', ok: true },
      { type: 'message', text: 'Done: wrote hello.txt' },
      { type: 'usage', inputTokens: 200, outputTokens: 40 },
      { type: 'final', ok: true, reason: 'completed', text: 'Done: wrote hello.txt' }
    ])
  })

  it('file_change items give file changes; a failed turn about the context window is token_limit', () => {
    const parse = codexParser()
    expect(parse('{"type":"item.completed","item":{"id":"i","type":"file_change","changes":[{"path":"/w/a.ts","kind":"update"}],"status":"completed"}}'))
      .toContainEqual({ type: 'file_change', path: '/w/a.ts' })
    expect(parse('{"type":"turn.failed","error":{"message":"Your input exceeds the context window of this model"}}'))
      .toEqual([{ type: 'final', ok: false, reason: 'token_limit', text: 'Your input exceeds the context window of this model' }])
  })
})

describe('gemini stream-json', () => {
  it('a shell call its policy blocked (reported as "success"): denied, and the run ends denied', () => {
    const events = parseFixture(geminiParser, 'gemini-blocked.jsonl')
    expect(events).toContainEqual({ type: 'tool_result', name: 'run_shell_command', ok: false, denied: true })
    expect(events).toContainEqual({ type: 'usage', inputTokens: 200, outputTokens: 40 })
    expect(finalOf(events)).toMatchObject({ ok: false, reason: 'denied' })
  })

  it('a write_file: tool call and result, file change, message, usage, completed', () => {
    expect(parseFixture(geminiParser, 'gemini-write.jsonl')).toEqual([
      { type: 'tool_call', name: 'write_file', input: { file_path: '/work/ws/hello.txt', content: 'hi\n' } },
      { type: 'tool_result', name: 'write_file', ok: true },
      { type: 'file_change', path: '/work/ws/hello.txt' },
      { type: 'message', text: 'Done.' },
      { type: 'usage', inputTokens: 200, outputTokens: 40 },
      { type: 'final', ok: true, reason: 'completed', text: 'Done.' }
    ])
  })

  it('an error result is a failure with its reason', () => {
    const parse = geminiParser()
    expect(finalOf(parse('{"type":"result","status":"error","error":{"type":"x","message":"Reached max session turns"},"stats":{}}')))
      .toMatchObject({ ok: false, reason: 'turn_limit' })
  })
})

describe('opencode run --format json', () => {
  it('a write: tool call and result, file change, usage per step with cost, completed', () => {
    const events = parseFixture(opencodeParser, 'opencode-write.jsonl')
    expect(events).toEqual([
      { type: 'tool_call', name: 'write', input: { filePath: '/work/ws/hello.txt', content: 'hello from the script\n' } },
      { type: 'tool_result', name: 'write', ok: true },
      { type: 'file_change', path: '/work/ws/hello.txt' },
      { type: 'usage', inputTokens: 100, outputTokens: 20, costUsd: 0.0006 },
      { type: 'message', text: 'Done: wrote hello.txt' },
      { type: 'usage', inputTokens: 100, outputTokens: 20, costUsd: 0.0006 },
      { type: 'final', ok: true, reason: 'completed', text: 'Done: wrote hello.txt' }
    ])
  })

  it('a rejected permission is a denial; an error event ends the run', () => {
    const parse = opencodeParser()
    expect(parse('{"type":"tool_use","part":{"tool":"bash","state":{"status":"error","input":{"command":"x"},"error":"The user rejected permission to use this specific tool call."}}}'))
      .toContainEqual({ type: 'tool_result', name: 'bash', ok: false, denied: true })
    expect(finalOf(parse('{"type":"error","error":{"name":"APIError","data":{"message":"boom"}}}'))).toMatchObject({ ok: false, reason: 'error' })
  })
})

describe('every parser, on arbitrary lines', () => {
  const parsers = { claude: claudeParser, codex: codexParser, gemini: geminiParser, opencode: opencodeParser }
  // Lines shaped like the real ones (known `type`s, arbitrary everything else) reach deep into the parsers.
  const types = ['system', 'assistant', 'user', 'result', 'item.started', 'item.completed', 'turn.completed', 'turn.failed', 'error',
    'message', 'tool_use', 'tool_result', 'text', 'step_finish', 'init']
  const shaped = fc.record({
    type: fc.constantFrom(...types),
    subtype: fc.oneof(fc.constantFrom('success', 'error_max_turns', 'permission_denied'), fc.anything()),
    message: fc.anything(),
    item: fc.anything(),
    part: fc.anything(),
    usage: fc.anything(),
    stats: fc.anything(),
    error: fc.anything(),
    role: fc.constantFrom('assistant', 'user', 7),
    content: fc.anything(),
    tool_result_meta: fc.anything(),
    permission_denials: fc.anything()
  }, { requiredKeys: ['type'] }).map((o) => JSON.stringify(o))
  const line = fc.oneof(fc.string(), fc.json(), shaped)

  for (const [name, parser] of Object.entries(parsers)) {
    it(`${name}: never throws, and every event is well-formed`, () => {
      fc.assert(fc.property(fc.array(line, { maxLength: 20 }), (lines) => {
        const parse = parser()
        for (const l of lines) {
          for (const event of parse(l)) {
            expect(['message', 'tool_call', 'tool_result', 'file_change', 'usage', 'final', 'error']).toContain(event.type)
            if (event.type === 'file_change') expect(typeof event.path).toBe('string')
            if (event.type === 'final') expect(typeof event.ok).toBe('boolean')
          }
        }
      }), { numRuns: 300 })
    })
  }
})
