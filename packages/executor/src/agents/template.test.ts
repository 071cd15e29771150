import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { claudeAdapter } from './claude.js'
import { codexAdapter } from './codex.js'
import { geminiAdapter, geminiSettingsPath } from './gemini.js'
import { opencodeAdapter } from './opencode.js'
import { createAgentAdapter, UnknownAgentError } from './index.js'
import { fill, renderTemplate } from './template.js'

describe('command templates', () => {
  it('fills placeholders and drops a group whose placeholder is unset', () => {
    const t = { file: 'x', args: ['-p', ['--model', '{model}'], ['--max-turns', '{maxTurns}'], '{prompt}'], env: { A: '{baseUrl}', B: 'fixed' } }
    expect(renderTemplate(t, { prompt: 'do it', maxTurns: 3 })).toEqual({ file: 'x', args: ['-p', '--max-turns', '3', 'do it'], env: { B: 'fixed' } })
  })

  it('never splits or changes a value: a prompt is one argument, whatever it holds', () => {
    fc.assert(fc.property(fc.string(), fc.string(), (prompt, model) => {
      const out = renderTemplate({ file: 'x', args: [['--model', '{model}'], '--', '{prompt}'] }, { prompt, model })
      expect(out.args).toEqual(['--model', model, '--', prompt])
    }))
  })

  it('fill leaves JSON braces alone', () => {
    expect(fill('{"a":{"b":1}} {x}', { x: 'y' })).toBe('{"a":{"b":1}} y')
  })
})

// The default command lines use only flags the CLIs' `--help` documents (checked versions in the README).
describe('default command lines', () => {
  const spec = { prompt: 'Fix the bug', cwd: '/w', model: 'm', limits: { maxTurns: 5, maxBudgetUsd: 2 }, endpoint: { baseUrl: 'http://127.0.0.1:1234/', apiKeyEnv: 'KEY' } }

  it('claude', () => {
    const c = claudeAdapter().command(spec)
    expect(c.file).toBe('claude')
    expect(c.args).toEqual(['-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', 'bypassPermissions',
      '--no-session-persistence', '--model', 'm', '--max-turns', '5', '--max-budget-usd', '2', '--', 'Fix the bug'])
    expect(c.env).toEqual({ IS_SANDBOX: '1', ANTHROPIC_BASE_URL: 'http://127.0.0.1:1234' })
  })

  it('codex: a Responses provider at the base URL, the key by variable name', () => {
    const c = codexAdapter().command(spec)
    expect(c.args.slice(0, 8)).toEqual(['exec', '--json', '--cd', '/w', '--dangerously-bypass-approvals-and-sandbox', '--skip-git-repo-check', '--ephemeral', '--model'])
    expect(c.args).toContain('model_providers.bzzz.base_url=http://127.0.0.1:1234/v1')
    expect(c.args).toContain('model_providers.bzzz.env_key=KEY')
    expect(c.args.slice(-2)).toEqual(['--', 'Fix the bug'])
    expect(codexAdapter().command({ prompt: 'p', cwd: '/w' }).args.join(' ')).not.toContain('model_provider')
  })

  it('gemini: the settings file only with a base URL', () => {
    expect(geminiAdapter().command(spec).env).toEqual({ GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:1234', GEMINI_CLI_SYSTEM_SETTINGS_PATH: geminiSettingsPath() })
    expect(geminiAdapter().command({ prompt: 'p', cwd: '/w' }).env).toEqual({})
    expect(geminiAdapter().command(spec).args).toEqual(['--output-format', 'stream-json', '--approval-mode', 'yolo', '--skip-trust', '--model', 'm', '--prompt', 'Fix the bug'])
  })

  it('opencode: the inline config holds the provider and the key reference, never a key', () => {
    const c = opencodeAdapter().command(spec)
    expect(c.args).toEqual(['run', '--format', 'json', '--dir', '/w', '--auto', '--model', 'm', '--', 'Fix the bug'])
    const config = JSON.parse(c.env.OPENCODE_CONFIG_CONTENT ?? '{}') as { provider: unknown, permission: unknown }
    expect(config.provider).toEqual({ anthropic: { options: { baseURL: 'http://127.0.0.1:1234/v1', apiKey: '{env:KEY}' } } })
  })

  it('a template override replaces the arguments; extra env is added', () => {
    const c = createAgentAdapter('claude', { template: { file: '/opt/claude', args: ['-p', '{prompt}'] }, env: { X: '{cwd}' } })
    expect(c.kind === 'cli' && c.command(spec)).toEqual({ file: '/opt/claude', args: ['-p', 'Fix the bug'], env: { IS_SANDBOX: '1', ANTHROPIC_BASE_URL: 'http://127.0.0.1:1234', X: '/w' } })
    expect(() => createAgentAdapter('cursor')).toThrow(UnknownAgentError)
    expect(createAgentAdapter('command', { command: ['my-agent', '{prompt}'] })).toMatchObject({ kind: 'cli', name: 'command' })
  })
})
