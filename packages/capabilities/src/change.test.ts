import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULT_LOAD_CHANGE, diffSnapshots, loadChanged } from './change.js'
import { snapshotArb, statusArb } from './fixtures.test.util.js'
import type { CapabilitySnapshot } from './types.js'

const percent = fc.double({ min: 0, max: 100, noNaN: true })

describe('loadChanged', () => {
  it('reports a move of at least the delta', () => {
    expect(loadChanged(10, 30)).toBe(true)
    expect(loadChanged(30, 10)).toBe(true)
    expect(loadChanged(10, 29)).toBe(false)
  })

  it('reports a threshold crossed by more than the hysteresis, either way', () => {
    expect(loadChanged(45, 56)).toBe(true)
    expect(loadChanged(48, 54)).toBe(false)
    expect(loadChanged(56, 44)).toBe(true)
    expect(loadChanged(52, 46)).toBe(false)
    expect(loadChanged(88, 95)).toBe(true)
  })

  it('is quiet for the same value', () => {
    fc.assert(fc.property(percent, (v) => { expect(loadChanged(v, v)).toBe(false) }))
  })

  it('always reports a move of the delta or more', () => {
    fc.assert(fc.property(percent, percent, (a, b) => {
      if (Math.abs(a - b) >= DEFAULT_LOAD_CHANGE.delta) expect(loadChanged(a, b)).toBe(true)
    }))
  })

  it('is quiet for a value wobbling within the hysteresis around a threshold', () => {
    const h = DEFAULT_LOAD_CHANGE.hysteresis
    fc.assert(fc.property(fc.constantFrom(...DEFAULT_LOAD_CHANGE.thresholds), fc.double({ min: -h + 0.001, max: h - 0.001, noNaN: true }), fc.double({ min: -h + 0.001, max: h - 0.001, noNaN: true }), (t, a, b) => {
      expect(loadChanged(t + a, t + b)).toBe(false)
    }))
  })

  it('never reports a change smaller than the hysteresis', () => {
    fc.assert(fc.property(percent, fc.double({ min: -4.999, max: 4.999, noNaN: true }), (a, d) => {
      expect(loadChanged(a, a + d)).toBe(false)
    }))
  })
})

describe('diffSnapshots', () => {
  it('finds nothing between a snapshot and itself', () => {
    fc.assert(fc.property(snapshotArb, (s) => { expect(diffSnapshots(s, structuredClone(s))).toEqual([]) }))
  })

  it('finds nothing when only small load wobbles and the time change', () => {
    fc.assert(fc.property(snapshotArb, fc.double({ min: -2, max: 2, noNaN: true }), (s, d) => {
      const t = structuredClone(s)
      t.load.cpu = Math.min(100, Math.max(0, t.load.cpu + d))
      t.load.memFreeMb += 17
      t.load.at += 5000
      t.probedAt += 60000
      for (const g of t.gpus.gpus) if (g.util !== undefined) g.util = Math.min(100, Math.max(0, g.util + d))
      expect(diffSnapshots(s, t)).toEqual([])
    }))
  })

  it('reports status and slot changes', () => {
    fc.assert(fc.property(snapshotArb, statusArb, (s, status) => {
      const t = { ...structuredClone(s), status }
      const changes = diffSnapshots(s, t)
      if (status === s.status) expect(changes).toEqual([])
      else expect(changes).toEqual([{ kind: 'status', from: s.status, to: status }])
    }))
  })

  const base: CapabilitySnapshot = {
    nodeId: 'n',
    status: 'idle',
    slotsFree: 2,
    slotsTotal: 2,
    load: { cpu: 10, mem: 20, memTotalMb: 1000, memFreeMb: 800, at: 0 },
    gpus: { gpus: [{ name: 'A', bus: '01', util: 0, memTotalMb: 100, memUsedMb: 0, source: 'nvidia-smi' }], ignored: [] },
    ollama: { available: true, source: 'api', host: 'h', models: [{ name: 'a:latest' }], loaded: [] },
    clis: [{ name: 'claude', available: true, path: '/c', version: '1.0.0' }, { name: 'codex', available: false, absence: { reason: 'not-installed', detail: '' } }],
    probedAt: 1
  }

  it('reports each kind of change with what changed', () => {
    const t = structuredClone(base)
    t.slotsFree = 1
    t.ollama = { ...base.ollama, models: [{ name: 'b:latest' }], loaded: [{ name: 'b:latest' }] } as typeof base.ollama
    t.clis = [{ name: 'claude', available: true, path: '/c', version: '1.1.0' }, { name: 'codex', available: true, path: '/x' }]
    t.gpus.gpus.push({ name: 'A', bus: '02', source: 'nvidia-smi' })
    t.load.cpu = 60
    t.gpus.gpus[0]!.util = 99
    t.gpus.gpus[0]!.memUsedMb = 100
    expect(diffSnapshots(base, t)).toEqual([
      { kind: 'models', added: ['b:latest'], removed: ['a:latest'] },
      { kind: 'loaded-models', added: ['b:latest'], removed: [] },
      { kind: 'clis', added: ['codex'], removed: [], upgraded: ['claude'] },
      { kind: 'gpus', added: ['A (02)'], removed: [] },
      { kind: 'slots', from: { free: 2, total: 2 }, to: { free: 1, total: 2 } },
      { kind: 'load', metric: 'cpu', from: 10, to: 60 },
      { kind: 'load', metric: 'gpu', from: 0, to: 99 },
      // The new GPU has no memory figures; the first went from 0 to 100 % used.
      { kind: 'load', metric: 'gpu-mem', from: 0, to: 100 }
    ])
  })

  it('reports models gone when Ollama stops', () => {
    const t = structuredClone(base)
    t.ollama = { available: false, host: 'h', absence: { reason: 'not-running', detail: '' }, api: { reason: 'not-running', detail: '' }, cli: { reason: 'not-installed', detail: '' } }
    expect(diffSnapshots(base, t)).toEqual([{ kind: 'models', added: [], removed: ['a:latest'] }])
  })

  it('counts two identical GPUs as two', () => {
    const one = structuredClone(base)
    one.gpus.gpus = [{ name: 'X', source: 'systeminformation' }]
    const two = structuredClone(base)
    two.gpus.gpus = [{ name: 'X', source: 'systeminformation' }, { name: 'X', source: 'systeminformation' }]
    expect(diffSnapshots(one, two)).toEqual([{ kind: 'gpus', added: ['X #2'], removed: [] }])
  })
})
