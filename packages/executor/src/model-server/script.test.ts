import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { findWorkingDirectory, pickReply, ScriptToolUnavailableError, shellWrite, type ModelScript } from './script.js'

const script: ModelScript = {
  actions: [{ write: { path: 'a/b.txt', content: 'x' } }, { shell: 'make test' }, { tool: { name: 'Read', input: { file_path: '/w/a' } } }, { text: 'a diff' }],
  final: 'done'
}

describe('pickReply', () => {
  it('follows the script by the number of assistant turns, then the final text', () => {
    const tools = ['Bash', 'Write', 'Read']
    const text = 'Primary working directory: /work/ws\n'
    expect(pickReply(script, { assistantTurns: 0, tools, text })).toEqual({ kind: 'tool', id: 'call_0', name: 'Write', input: { file_path: '/work/ws/a/b.txt', content: 'x' } })
    expect(pickReply(script, { assistantTurns: 1, tools, text })).toEqual({ kind: 'tool', id: 'call_1', name: 'Bash', input: { command: 'make test', description: 'scripted command' } })
    expect(pickReply(script, { assistantTurns: 2, tools, text })).toMatchObject({ kind: 'tool', name: 'Read', input: { file_path: '/w/a' } })
    expect(pickReply(script, { assistantTurns: 3, tools, text })).toEqual({ kind: 'text', text: 'a diff' })
    expect(pickReply(script, { assistantTurns: 4, tools, text })).toEqual({ kind: 'text', text: 'done' })
  })

  it('writes through the shell where the CLI has no write tool (codex), or no working directory is known', () => {
    expect(pickReply(script, { assistantTurns: 0, tools: ['exec_command', 'write_stdin'], text: '' }))
      .toEqual({ kind: 'tool', id: 'call_0', name: 'exec_command', input: { cmd: shellWrite('a/b.txt', 'x') } })
    expect(pickReply(script, { assistantTurns: 0, tools: ['write_file', 'run_shell_command'], text: '' }))
      .toMatchObject({ name: 'run_shell_command' })
  })

  it('a side request without tools (a title) gets text; a tool the request lacks is an error', () => {
    expect(pickReply(script, { assistantTurns: 0, tools: [], text: '' })).toEqual({ kind: 'text', text: 'Scripted task' })
    expect(() => pickReply({ actions: [{ shell: 'x' }], final: '' }, { assistantTurns: 0, tools: ['Read'], text: '' })).toThrow(ScriptToolUnavailableError)
  })

  it('is a function of the request alone (replays and parallel conversations never shift it)', () => {
    fc.assert(fc.property(fc.nat(10), fc.array(fc.constantFrom('Write', 'Bash', 'write', 'bash', 'exec_command')), (turns, tools) => {
      const view = { assistantTurns: turns, tools, text: 'Working directory: /w' }
      let a: unknown, b: unknown
      try { a = pickReply(script, view) } catch (e) { a = (e as Error).name }
      try { b = pickReply(script, view) } catch (e) { b = (e as Error).name }
      expect(a).toEqual(b)
    }))
  })
})

describe('findWorkingDirectory', () => {
  it('reads each CLI\'s way of stating it', () => {
    expect(findWorkingDirectory('...\n - Primary working directory: /tmp/x/ws\n')).toBe('/tmp/x/ws')
    expect(findWorkingDirectory('<env>\n<cwd>/srv/ws</cwd>')).toBe('/srv/ws')
    expect(findWorkingDirectory('- **Workspace Directories:**\n  - /tmp/agents/ws\n')).toBe('/tmp/agents/ws')
    expect(findWorkingDirectory('nothing here')).toBeUndefined()
  })
})

describe('shellWrite', () => {
  it('writes any content exactly (checked by running it)', async () => {
    const { execFileSync } = await import('node:child_process')
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dir = mkdtempSync(join(tmpdir(), 'bzzz-shellwrite-'))
    try {
      fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.constantFrom('f.txt', "it's/dir x/f"), (content, path) => {
        execFileSync('bash', ['-c', shellWrite(path, content)], { cwd: dir })
        expect(readFileSync(join(dir, path), 'utf8')).toBe(content)
      }), { numRuns: 25 })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
