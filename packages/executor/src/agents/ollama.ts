// Ollama has no editing CLI: this adapter talks to the model through the official `ollama`
// client and runs a bounded loop. Each round the model may answer with one unified diff; it is
// checked with `git apply --check`, applied, and the result (or git's complaint) is fed back. A
// reply without a diff ends the run; so does the round limit (`turn_limit`) or the token limit.
import { spawn } from 'node:child_process'
import { Ollama, type Message } from 'ollama'
import type { AgentEvent, AgentRunSpec, InProcessAgentAdapter } from '../agent.js'
import { diffPaths, extractDiff } from './diff.js'

export interface OllamaAdapterConfig {
  /** The Ollama server (default `http://127.0.0.1:11434`); a run's `endpoint.baseUrl` wins. */
  host?: string
  /** Model when the run names none (default `qwen2.5-coder`). */
  model?: string
  /** Rounds (model replies) at most, when the run sets no `maxTurns` (default 8). */
  maxRounds?: number
  /** Files listed to the model at the start, at most (default 200). */
  maxListedFiles?: number
}

export const OLLAMA_SYSTEM_PROMPT = [
  'You edit a git working tree by answering with unified diffs.',
  'Each reply holds at most one diff, in a ```diff fenced block, with paths relative to the repository root',
  '(`--- a/path` / `+++ b/path`; `--- /dev/null` for a new file). The diff is checked with `git apply --check`,',
  'applied, and you are told the result. When the task is done, reply with a short summary and no diff.'
].join('\n')

interface GitResult { code: number, output: string }

function git (cwd: string, args: string[], input: string | undefined, signal: AbortSignal): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, signal, stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => { output += d.toString('utf8') })
    child.stderr.on('data', (d: Buffer) => { output += d.toString('utf8') })
    child.stdin.on('error', () => {}) // EPIPE when git ends (or is killed) before reading it all
    child.on('error', (err) => reject(signal.aborted ? signal.reason : err))
    child.on('close', (code) => signal.aborted ? reject(signal.reason) : resolve({ code: code ?? 1, output: output.slice(-4000) }))
    child.stdin.end(input ?? '')
  })
}

export function ollamaAdapter (config: OllamaAdapterConfig = {}): InProcessAgentAdapter {
  return {
    kind: 'in-process',
    name: 'ollama',
    async run (spec: AgentRunSpec, { signal, onEvent }) {
      signal.throwIfAborted()
      const emit = (event: AgentEvent): void => onEvent(event)
      const client = new Ollama({
        host: spec.endpoint?.baseUrl ?? config.host ?? 'http://127.0.0.1:11434',
        fetch: (input, init) => fetch(input, { ...init, signal: init?.signal != null ? AbortSignal.any([init.signal, signal]) : signal })
      })
      const model = spec.model ?? config.model ?? 'qwen2.5-coder'
      const maxRounds = spec.limits?.maxTurns ?? config.maxRounds ?? 8
      const files = await git(spec.cwd, ['ls-files'], undefined, signal)
      const listed = files.output.split('\n').filter((f) => f !== '').slice(0, config.maxListedFiles ?? 200)
      const messages: Message[] = [
        { role: 'system', content: OLLAMA_SYSTEM_PROMPT },
        { role: 'user', content: `${spec.prompt}\n\nFiles in the repository:\n${listed.join('\n') || '(none)'}` }
      ]
      let tokens = 0
      let lastText = ''
      for (let round = 0; round < maxRounds; round++) {
        signal.throwIfAborted()
        let reply
        try {
          reply = await client.chat({ model, messages, stream: false })
        } catch (err) {
          signal.throwIfAborted()
          emit({ type: 'final', ok: false, reason: 'error', text: `ollama: ${(err as Error).message}` })
          return
        }
        const inputTokens = reply.prompt_eval_count ?? 0
        const outputTokens = reply.eval_count ?? 0
        tokens += inputTokens + outputTokens
        emit({ type: 'usage', inputTokens, outputTokens })
        const text = reply.message.content
        lastText = text
        messages.push({ role: 'assistant', content: text })
        if (text !== '') emit({ type: 'message', text })
        const diff = extractDiff(text)
        if (diff == null) {
          emit({ type: 'final', ok: true, reason: 'completed', text })
          return
        }
        emit({ type: 'tool_call', name: 'apply_patch', input: { diff } })
        const check = await git(spec.cwd, ['apply', '--check', '--whitespace=nowarn', '-'], diff, signal)
        const applied = check.code === 0 ? await git(spec.cwd, ['apply', '--whitespace=nowarn', '-'], diff, signal) : check
        const ok = applied.code === 0
        emit({ type: 'tool_result', name: 'apply_patch', ok })
        if (ok) for (const path of diffPaths(diff)) emit({ type: 'file_change', path })
        messages.push({
          role: 'user',
          content: ok ? 'The diff was applied.' : `The diff was not applied; git apply --check said:\n${applied.output}`
        })
        if (spec.limits?.maxTokens != null && tokens >= spec.limits.maxTokens) {
          emit({ type: 'final', ok: false, reason: 'token_limit', text: lastText })
          return
        }
      }
      emit({ type: 'final', ok: false, reason: 'turn_limit', text: lastText })
    }
  }
}
