import { SEED_SAMPLES, decode, type CapabilitiesMessage } from '@bzzz/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { requirementsArb, snapshotArb } from './fixtures.test.util.js'
import { toCapabilitiesMessage } from './message.js'
import { cliKey, modelKey, satisfies } from './satisfies.js'

const base: CapabilitiesMessage = {
  type: 'capabilities',
  node_id: 'gpu-box',
  cpu: 10,
  gpu: 0,
  models: ['llama3:latest', 'qwen2.5-coder:7b'],
  installed: ['claude', 'ollama'],
  status: 'idle',
  timestamp: '2025-07-12T01:23:45Z',
  mem_free_mb: 16000,
  gpus: [{ name: 'NVIDIA H100', util: 3, mem_total_mb: 81559, mem_used_mb: 1559 }],
  loaded_models: ['mistral:latest']
}

describe('satisfies on a received message', () => {
  it('holds for an empty requirement', () => {
    expect(satisfies(base, {})).toEqual({ ok: true })
  })

  it('holds when every requirement holds', () => {
    expect(satisfies(base, {
      models: ['llama3', 'qwen2.5-coder:7b', 'mistral'],
      clis: ['claude', 'ollama'],
      gpu: true,
      min_mem_free_mb: 16000,
      min_gpu_mem_free_mb: 80000
    })).toEqual({ ok: true })
  })

  it('lists every requirement that does not hold', () => {
    expect(satisfies(base, {
      models: ['llama3:70b', 'llama3'],
      clis: ['codex', 'claude-cli'],
      min_mem_free_mb: 16001,
      min_gpu_mem_free_mb: 80001
    })).toEqual({
      ok: false,
      missing: [
        { kind: 'model', name: 'llama3:70b' },
        { kind: 'cli', name: 'codex' },
        { kind: 'mem', requiredMb: 16001, freeMb: 16000 },
        { kind: 'gpu-mem', requiredMb: 80001, freeMb: 80000 }
      ]
    })
  })

  it('does not take an unstated amount of memory as enough', () => {
    const { mem_free_mb: _m, gpus: _g, ...bare } = base
    expect(satisfies({ ...bare, gpus: [{ name: 'GPU' }] }, { min_mem_free_mb: 1, min_gpu_mem_free_mb: 1, gpu: true })).toEqual({
      ok: false,
      missing: [{ kind: 'mem', requiredMb: 1 }, { kind: 'gpu-mem', requiredMb: 1 }]
    })
  })

  it('reads the seed\'s sample: a GPU from a non-zero `gpu`, `gemini-cli` as the gemini CLI', () => {
    const seed = decode(SEED_SAMPLES.capabilities) as CapabilitiesMessage
    expect(satisfies(seed, { models: ['llama3', 'mistral:latest'], clis: ['gemini', 'ollama'], gpu: true })).toEqual({ ok: true })
    expect(satisfies({ ...seed, gpu: 0 }, { gpu: true })).toEqual({ ok: false, missing: [{ kind: 'gpu' }] })
    expect(satisfies({ ...seed, gpus: [] }, { gpu: true })).toEqual({ ok: false, missing: [{ kind: 'gpu' }] })
  })

  it('asks nothing for gpu: false', () => {
    expect(satisfies({ ...base, gpus: [] }, { gpu: false })).toEqual({ ok: true })
  })
})

describe('name keys', () => {
  it.each([
    ['llama3', 'llama3:latest'],
    ['Llama3:Latest', 'llama3:latest'],
    ['registry.ollama.ai/library/llama3', 'llama3:latest'],
    ['library/llama3:8b', 'llama3:8b'],
    ['hf.co/bartowski/Qwen', 'hf.co/bartowski/qwen:latest'],
    ['localhost:5000/me/model', 'localhost:5000/me/model:latest']
  ])('modelKey(%j) = %j', (name, key) => {
    expect(modelKey(name)).toBe(key)
  })

  it.each([['claude-cli', 'claude'], ['Gemini', 'gemini'], ['-cli', '-cli'], ['codex', 'codex']])('cliKey(%j) = %j', (name, key) => {
    expect(cliKey(name)).toBe(key)
  })

  it('modelKey is idempotent', () => {
    fc.assert(fc.property(fc.string(), (s) => { expect(modelKey(modelKey(s))).toBe(modelKey(s)) }))
  })
})

describe('satisfies properties', () => {
  it('answers the same for a snapshot and the message made from it', () => {
    fc.assert(fc.property(snapshotArb, requirementsArb, (s, r) => {
      expect(satisfies(toCapabilitiesMessage(s, { now: 0 }), r)).toEqual(satisfies(s, r))
    }), { numRuns: 500 })
  })

  it('is satisfied by what the capabilities themselves contain', () => {
    fc.assert(fc.property(snapshotArb, (s) => {
      const m = toCapabilitiesMessage(s, { now: 0 })
      const free = (m.gpus ?? []).flatMap((g) => g.mem_total_mb !== undefined && g.mem_used_mb !== undefined ? [g.mem_total_mb - g.mem_used_mb] : [])
      expect(satisfies(m, {
        models: [...m.models, ...(m.loaded_models ?? [])].slice(0, 32),
        clis: m.installed.slice(0, 32),
        gpu: (m.gpus ?? []).length > 0,
        ...(m.mem_free_mb !== undefined ? { min_mem_free_mb: m.mem_free_mb } : {}),
        ...(free.length > 0 ? { min_gpu_mem_free_mb: Math.max(...free) } : {})
      })).toEqual({ ok: true })
    }))
  })

  it('only adds missing items as requirements grow (monotone)', () => {
    fc.assert(fc.property(snapshotArb, requirementsArb, requirementsArb, (s, r1, r2) => {
      const both = {
        ...r1,
        models: [...(r1.models ?? []), ...(r2.models ?? [])],
        clis: [...(r1.clis ?? []), ...(r2.clis ?? [])]
      }
      const one = satisfies(s, r1)
      if (!one.ok) {
        const all = satisfies(s, both)
        expect(all.ok).toBe(false)
        if (!all.ok) for (const m of one.missing) expect(all.missing).toContainEqual(m)
      }
    }))
  })
})
