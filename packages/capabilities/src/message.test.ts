import { DEFAULT_MAX_MESSAGE_BYTES, decode, encode } from '@bzzz/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { snapshotArb } from './fixtures.test.util.js'
import { toCapabilitiesMessage, toPresencePing } from './message.js'
import type { CapabilitySnapshot } from './types.js'

const snapshot: CapabilitySnapshot = {
  nodeId: 'gpu-box',
  name: 'gpu-box.lan',
  status: 'busy',
  slotsFree: 1,
  slotsTotal: 2,
  load: { cpu: 12.34, mem: 40.06, memTotalMb: 64000, memFreeMb: 38400, at: 0 },
  gpus: {
    gpus: [
      { name: 'NVIDIA H100 80GB HBM3', vendor: 'NVIDIA', util: 37, memTotalMb: 81559, memUsedMb: 4000, memFreeMb: 77559, source: 'nvidia-smi' },
      { name: 'NVIDIA H100 80GB HBM3', vendor: 'NVIDIA', util: 91, memTotalMb: 81559, memFreeMb: 559, source: 'nvidia-smi' }
    ],
    ignored: ['ASPEED Graphics Family']
  },
  ollama: { available: true, source: 'api', host: 'http://127.0.0.1:11434', models: [{ name: 'llama3.2:latest' }, { name: 'mistral:latest' }], loaded: [{ name: 'mistral:latest' }] },
  clis: [
    { name: 'claude', available: true, path: '/usr/bin/claude', version: '1.0.67' },
    { name: 'aider', available: true, path: '/usr/bin/aider' },
    { name: 'codex', available: false, absence: { reason: 'not-installed', detail: 'x' } },
    { name: 'gemini', available: false, path: '/usr/bin/gemini', absence: { reason: 'timed-out', detail: 'x' } }
  ],
  probedAt: 1
}

describe('toCapabilitiesMessage', () => {
  it('maps the snapshot onto the seed\'s fields and the additions', () => {
    const msg = toCapabilitiesMessage(snapshot, { now: Date.UTC(2025, 6, 12, 1, 23, 45) })
    expect(msg).toEqual({
      type: 'capabilities',
      node_id: 'gpu-box',
      cpu: 12.3,
      gpu: 91,
      models: ['llama3.2:latest', 'mistral:latest'],
      installed: ['claude', 'aider'],
      status: 'busy',
      timestamp: '2025-07-12T01:23:45.000Z',
      mem: 40.1,
      mem_free_mb: 38400,
      gpus: [
        { name: 'NVIDIA H100 80GB HBM3', util: 37, mem_total_mb: 81559, mem_used_mb: 4000 },
        { name: 'NVIDIA H100 80GB HBM3', util: 91, mem_total_mb: 81559, mem_used_mb: 81000 }
      ],
      loaded_models: ['mistral:latest'],
      versions: { claude: '1.0.67' },
      slots_free: 1,
      slots_total: 2,
      name: 'gpu-box.lan'
    })
    expect(decode(encode(msg))).toEqual(msg)
  })

  it('sends gpu 0 and no models when there is no GPU and no Ollama', () => {
    const msg = toCapabilitiesMessage({
      ...snapshot,
      gpus: { gpus: [], ignored: [], absence: { reason: 'not-installed', detail: 'no GPU found' } },
      ollama: { available: false, host: 'h', absence: { reason: 'not-installed', detail: '' }, api: { reason: 'not-running', detail: '' }, cli: { reason: 'not-installed', detail: '' } }
    }, { now: 0 })
    expect(msg).toMatchObject({ gpu: 0, gpus: [], models: [] })
    expect(msg.loaded_models).toBeUndefined()
    expect(decode(encode(msg))).toEqual(msg)
  })

  it('always decodes through @bzzz/protocol', () => {
    fc.assert(fc.property(snapshotArb, fc.integer({ min: 0, max: 4102444800000 }), (s, now) => {
      const msg = toCapabilitiesMessage(s, { now })
      expect(decode(encode(msg))).toEqual(msg)
    }), { numRuns: 500 })
  })

  it('brings oversized lists and names within the schema and the size cap', () => {
    const long = 'x'.repeat(300)
    const many = (n: number, p: string): Array<{ name: string }> => Array.from({ length: n }, (_, i) => ({ name: `${p}-${i}-${'m'.repeat(200)}` }))
    const big: CapabilitySnapshot = {
      ...snapshot,
      name: long,
      gpus: { gpus: Array.from({ length: 100 }, () => ({ name: long, util: 150, memTotalMb: -5, source: 'nvidia-smi' as const })), ignored: [] },
      ollama: { available: true, source: 'api', host: 'h', models: [{ name: long }, ...many(700, 'a')], loaded: many(600, 'b') },
      clis: Array.from({ length: 200 }, (_, i) => ({ name: `cli${i}`, available: true as const, path: '/x', version: `1.${i}` })),
      slotsFree: 5000,
      slotsTotal: 5000
    }
    const msg = toCapabilitiesMessage(big, { now: 0 })
    const bytes = encode(msg)
    expect(bytes.byteLength).toBeLessThanOrEqual(DEFAULT_MAX_MESSAGE_BYTES)
    expect(decode(bytes)).toEqual(msg)
    expect(msg.models.length).toBeGreaterThan(0)
    expect(msg.models).not.toContain(long)
    expect(msg.installed.length).toBe(128)
    expect(msg.gpus?.every((g) => g.util === 100 && g.mem_total_mb === 0)).toBe(true)
    expect(msg.slots_total).toBe(1024)
  })
})

describe('toPresencePing', () => {
  it('carries status, load, the busiest GPU and free slots, and decodes', () => {
    const ping = toPresencePing(snapshot, { activeTasks: ['example-org/task-repo#42'], seq: 7, now: 0 })
    expect(ping).toEqual({
      type: 'presence_ping',
      node_id: 'gpu-box',
      status: 'busy',
      load: { cpu: 12.3, mem: 40.1, gpu: 91 },
      active_tasks: ['example-org/task-repo#42'],
      timestamp: '1970-01-01T00:00:00.000Z',
      slots_free: 1,
      seq: 7
    })
    expect(decode(encode(ping))).toEqual(ping)
  })

  it('always decodes', () => {
    fc.assert(fc.property(snapshotArb, (s) => {
      const ping = toPresencePing(s, { now: 0 })
      expect(decode(encode(ping))).toEqual(ping)
    }))
  })
})
