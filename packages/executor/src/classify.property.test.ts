import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { classify, type ClassifyInput } from './classify.js'
import { agentEnv, secretsOfGitEnv } from './env.js'
import { ExecutorConfigError } from './errors.js'

const inputArb: fc.Arbitrary<ClassifyInput> = fc.record({
  reason: fc.constantFrom('exited', 'exit_grace', 'wall_clock', 'inactivity', 'budget', 'output_limit', 'cancelled'),
  exitCode: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
  final: fc.option(fc.record({ ok: fc.boolean(), reason: fc.option(fc.constantFrom('completed', 'turn_limit', 'denied', 'error'), { nil: undefined }) }), { nil: undefined }),
  toolCalls: fc.nat(3),
  denied: fc.nat(3),
  changed: fc.boolean(),
  file: fc.option(fc.record({
    follow_ups: fc.option(fc.array(fc.record({ title: fc.constant('t'), body: fc.constant('b') }), { maxLength: 2 }), { nil: undefined }),
    help: fc.option(fc.record({ capabilities: fc.constant(['gpu']), reason: fc.constant('r') }), { nil: undefined })
  }, { requiredKeys: [] }), { nil: undefined })
}).map((r) => JSON.parse(JSON.stringify(r)) as ClassifyInput)

describe('classifying a finished run', () => {
  it('a pull request only from a clean, finished run that changed something', () => {
    fc.assert(fc.property(inputArb, (r) => {
      const v = classify(r)
      if (v.type === 'pull_request') {
        expect(r.changed).toBe(true)
        expect(r.reason === 'exited' || r.reason === 'exit_grace').toBe(true)
        expect(r.final?.ok).not.toBe(false)
        expect(r.toolCalls === 0 || r.denied < r.toolCalls).toBe(true)
        if (r.reason === 'exited') expect(r.exitCode).toBe(0)
      }
      if (r.reason === 'cancelled') expect(v.type).toBe('cancelled')
      // A help request is never a failure.
      if (r.file?.help !== undefined && r.reason !== 'cancelled') expect(v.type).toBe('help')
      // A limit is a failure named after it.
      if (['wall_clock', 'inactivity', 'budget', 'output_limit'].includes(r.reason) && r.file?.help === undefined) expect(v).toEqual({ type: 'failure', reason: r.reason })
      // Exit 0, every tool call denied: a failure.
      if (r.toolCalls > 0 && r.denied >= r.toolCalls && v.type !== 'cancelled' && v.type !== 'help') expect(v.type).toBe('failure')
    }), { numRuns: 1000 })
  })

  it('no change and no follow-ups is a failure', () => {
    expect(classify({ reason: 'exited', exitCode: 0, final: { ok: true }, toolCalls: 0, denied: 0, changed: false, file: undefined })).toEqual({ type: 'failure', reason: 'no_change' })
    expect(classify({ reason: 'exited', exitCode: 0, final: { ok: true }, toolCalls: 0, denied: 0, changed: false, file: { follow_ups: [{ title: 't', body: 'b' }] } })).toEqual({ type: 'issues' })
  })
})

describe('the agent environment', () => {
  const gitEnv = { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.http://h/.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from('x-access-token:tok-secret-123').toString('base64')}` }

  it('holds only allowed names, never a value with the token, and no git credentials', () => {
    fc.assert(fc.property(fc.dictionary(fc.stringMatching(/^[A-Z_]{1,12}$/), fc.string()), fc.constantFrom('tok-secret-123', 'xx tok-secret-123 yy'), (base, tokenValue) => {
      const env = agentEnv({ base: { ...base, PATH: '/bin', GITHUB_TOKEN: tokenValue, HOME: tokenValue }, allow: ['PATH', 'HOME', 'GITHUB_TOKEN', ...Object.keys(base)], extra: {}, secrets: secretsOfGitEnv(gitEnv) })
      for (const [k, v] of Object.entries(env)) {
        expect(v.includes('tok-secret-123')).toBe(false)
        expect(k).not.toMatch(/^GITHUB_TOKEN$|^GIT_CONFIG_(COUNT|KEY|VALUE)/)
      }
      expect(env.PATH).toBe('/bin')
      expect(env.GIT_CONFIG_GLOBAL).toBe('/dev/null')
    }))
  })

  it('refuses a configured variable that carries credentials', () => {
    expect(() => agentEnv({ base: {}, allow: [], extra: { GH_TOKEN: 'x' }, secrets: [] })).toThrow(ExecutorConfigError)
    expect(() => agentEnv({ base: {}, allow: [], extra: { FOO: 'tok-secret-123' }, secrets: secretsOfGitEnv(gitEnv) })).toThrow(ExecutorConfigError)
  })
})
