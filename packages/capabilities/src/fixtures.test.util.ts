/** Shared fixtures, helpers and fast-check arbitraries for this package's tests (not shipped: `*.test.*`). */
import fc from 'fast-check'
import type { PeerStatus, Requirements } from '@bzzz/protocol'
import type { CapabilitySnapshot, CliState, GpuInfo, OllamaState } from './types.js'

// Bodies as Ollama's API documentation gives them (docs.ollama.com/api: /api/tags, /api/ps).
export const TAGS_BODY = {
  models: [
    {
      name: 'deepseek-r1:latest',
      model: 'deepseek-r1:latest',
      modified_at: '2025-05-10T08:06:48.639712648-07:00',
      size: 4683075271,
      digest: '0a8c266910232fd3291e71e5ba1e058cc5af9d411192cf88b6d30e92b6e73163',
      details: { parent_model: '', format: 'gguf', family: 'qwen2', families: ['qwen2'], parameter_size: '7.6B', quantization_level: 'Q4_K_M' }
    },
    {
      name: 'llama3.2:latest',
      model: 'llama3.2:latest',
      modified_at: '2025-05-04T17:37:44.706015396-07:00',
      size: 2019393189,
      digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72',
      details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '3.2B', quantization_level: 'Q4_K_M' }
    }
  ]
}

export const PS_BODY = {
  models: [
    {
      name: 'llama3.2:latest',
      model: 'llama3.2:latest',
      size: 5137025024,
      digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72',
      details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '3.2B', quantization_level: 'Q4_K_M' },
      expires_at: '2024-06-04T14:38:31.83753-07:00',
      size_vram: 5137025024,
      context_length: 4096
    }
  ]
}


/** Polls `cond` until it holds; throws after `ms`. */
export async function until (cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

export function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const percent = fc.double({ min: 0, max: 100, noNaN: true })
export const statusArb: fc.Arbitrary<PeerStatus> = fc.constantFrom('idle', 'busy', 'draining')

/** A model name as Ollama writes them, from a small pool so that requirements hit and miss. */
export const modelNameArb = fc.constantFrom('llama3', 'llama3:latest', 'llama3:8b', 'mistral:latest', 'qwen2.5-coder:7b', 'hf.co/bartowski/Qwen:Q4_K_M', 'deepseek-r1:latest', 'gemma3')
export const cliNameArb = fc.constantFrom('claude', 'gemini', 'codex', 'opencode', 'ollama', 'aider', 'claude-cli', 'gemini-cli')

/**
 * GPUs whose memory figures are known or partly unknown. As nvidia-smi reports them, free may
 * be less than total − used: the driver reserves some memory (a few hundred MiB on an H100).
 */
export const gpuArb: fc.Arbitrary<GpuInfo> = fc.record({
  name: fc.string({ maxLength: 40 }),
  util: fc.option(percent, { nil: undefined }),
  mem: fc.option(fc.tuple(fc.integer({ min: 1, max: 200_000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean(), fc.nat(600)), { nil: undefined })
}).map(({ name, util, mem }) => {
  const g: GpuInfo = { name, source: 'nvidia-smi' }
  if (util !== undefined) g.util = util
  if (mem !== undefined) {
    const [total, frac, known, reserved] = mem
    g.memTotalMb = total
    if (known) {
      g.memUsedMb = Math.round(total * frac)
      g.memFreeMb = Math.max(0, total - g.memUsedMb - reserved)
    }
  }
  return g
})

export const cliStateArb: fc.Arbitrary<CliState> = fc.oneof(
  fc.record({ name: cliNameArb, version: fc.option(fc.constantFrom('1.0.0', '0.11.4', '2.3.4-beta.1'), { nil: undefined }) })
    .map(({ name, version }): CliState => version === undefined
      ? { name, available: true, path: `/usr/bin/${name}` }
      : { name, available: true, path: `/usr/bin/${name}`, version }),
  fc.record({ name: cliNameArb, reason: fc.constantFrom('not-installed' as const, 'timed-out' as const, 'failed' as const) })
    .map(({ name, reason }): CliState => ({ name, available: false, absence: { reason, detail: 'x' } }))
)

export const ollamaArb: fc.Arbitrary<OllamaState> = fc.oneof(
  fc.record({
    models: fc.array(modelNameArb, { maxLength: 6 }),
    loaded: fc.array(modelNameArb, { maxLength: 2 }),
    source: fc.constantFrom('api' as const, 'cli' as const)
  }).map(({ models, loaded, source }): OllamaState => ({
    available: true,
    source,
    host: 'http://127.0.0.1:11434',
    models: models.map((name) => ({ name })),
    loaded: loaded.map((name) => ({ name }))
  })),
  fc.constant<OllamaState>({
    available: false,
    host: 'http://127.0.0.1:11434',
    absence: { reason: 'not-installed', detail: 'x' },
    api: { reason: 'not-running', detail: 'x' },
    cli: { reason: 'not-installed', detail: 'x' }
  })
)

export const snapshotArb: fc.Arbitrary<CapabilitySnapshot> = fc.record({
  nodeId: fc.string({ minLength: 1, maxLength: 128 }),
  name: fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
  status: statusArb,
  slots: fc.option(fc.integer({ min: 0, max: 1024 }).chain((total) => fc.tuple(fc.integer({ min: 0, max: total }), fc.constant(total))), { nil: undefined }),
  cpu: percent,
  mem: percent,
  memTotalMb: fc.integer({ min: 0, max: 4_000_000 }),
  memFreeMb: fc.integer({ min: 0, max: 4_000_000 }),
  gpus: fc.array(gpuArb, { maxLength: 4 }),
  ollama: ollamaArb,
  clis: fc.uniqueArray(cliStateArb, { maxLength: 8, selector: (c) => c.name })
}).map((r): CapabilitySnapshot => {
  const s: CapabilitySnapshot = {
    nodeId: r.nodeId,
    status: r.status,
    load: { cpu: r.cpu, mem: r.mem, memTotalMb: r.memTotalMb, memFreeMb: r.memFreeMb, at: 0 },
    gpus: r.gpus.length > 0 ? { gpus: r.gpus, ignored: [] } : { gpus: [], ignored: [], absence: { reason: 'not-installed', detail: 'no GPU found' } },
    ollama: r.ollama,
    clis: r.clis,
    probedAt: 1
  }
  if (r.name !== undefined) s.name = r.name
  if (r.slots !== undefined) { s.slotsFree = r.slots[0]; s.slotsTotal = r.slots[1] }
  return s
})

export const requirementsArb: fc.Arbitrary<Requirements> = fc.record({
  models: fc.array(modelNameArb, { maxLength: 3 }),
  clis: fc.array(cliNameArb, { maxLength: 3 }),
  gpu: fc.boolean(),
  min_mem_free_mb: fc.integer({ min: 0, max: 4_000_000 }),
  min_gpu_mem_free_mb: fc.integer({ min: 0, max: 200_000 })
}, { requiredKeys: [] })
