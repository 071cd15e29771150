import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { decode, encode } from '@bzzz/protocol'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { CapabilityChange } from './change.js'
import { createCapabilityDetector, type CapabilityDetector, type CapabilityDetectorInit, type CapabilityDetectorComponents } from './detector.js'
import { DetectorStoppedError, InvalidArgumentError, InvalidOptionsError } from './errors.js'
import { PS_BODY, TAGS_BODY, alive, until } from './fixtures.test.util.js'
import type { GraphicsController } from './gpu.js'
import { satisfies } from './satisfies.js'

const H100: GraphicsController = {
  vendor: 'NVIDIA Corporation', model: 'GH100', bus: 'Onboard', vram: 81559, vramDynamic: false,
  name: 'NVIDIA H100 80GB HBM3', pciBus: '00000000:18:00.0', memoryTotal: 81559, memoryUsed: 4000, memoryFree: 77559, utilizationGpu: 37
}

let dir: string
let bin: string
let server: Server
let ollamaUrl: string
let tags: { models: unknown[] } = structuredClone(TAGS_BODY)
const detectors: CapabilityDetector[] = []

async function script (name: string, body: string): Promise<void> {
  await writeFile(join(bin, name), `#!/bin/sh\n${body}\n`)
  await chmod(join(bin, name), 0o755)
}

async function startOllama (): Promise<void> {
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(req.url === '/api/ps' ? PS_BODY : tags))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  ollamaUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function stopOllama (): Promise<void> {
  if (!server.listening) return
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
}

function make (init: Partial<CapabilityDetectorInit> = {}, components: CapabilityDetectorComponents = {}): CapabilityDetector {
  const d = createCapabilityDetector({
    nodeId: 'test-node',
    ollamaHost: ollamaUrl,
    env: { PATH: `${bin}:/usr/bin:/bin` },
    clis: ['claude', 'gemini', 'codex', 'opencode', 'ollama', 'aider'],
    cliTimeoutMs: 1000,
    ...init
  }, {
    graphics: async () => ({ controllers: [H100] }),
    // A steady load by default, so that this machine's own load swings are not reported in tests about other changes.
    cpus: steadyCpu(),
    memory: async () => ({ total: 16 * 1024 ** 3, available: 8 * 1024 ** 3 }),
    ...components
  })
  detectors.push(d)
  return d
}

function steadyCpu (): () => Array<{ times: { user: number, nice: number, sys: number, irq: number, idle: number } }> {
  let ticks = 0
  return () => { ticks += 1000; return [{ times: { user: ticks / 10, nice: 0, sys: 0, irq: 0, idle: (ticks * 9) / 10 } }] }
}

function collect (d: CapabilityDetector): CapabilityChange[][] {
  const seen: CapabilityChange[][] = []
  d.addEventListener('change', (evt) => { seen.push(evt.detail.changes) })
  return seen
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bzzz-caps-detector-'))
  bin = join(dir, 'bin')
  await mkdir(bin)
  await script('claude', `echo run >> "${dir}/claude.calls"\necho "1.0.67 (Claude Code)"`)
  await script('gemini', 'exec sleep 1000')
  await script('codex', 'echo "boom" >&2\nexit 2')
  await script('sleepy', 'sleep 0.3\necho "sleepy 2.1.0"')
  await script('slow', `echo $$ > "${dir}/slow.pid"\nexec sleep 1000`)
  await startOllama()
})

afterEach(async () => {
  await Promise.all(detectors.splice(0).map(async (d) => { await d.stop() }))
  tags = structuredClone(TAGS_BODY)
})

afterAll(async () => {
  await stopOllama()
  await rm(dir, { recursive: true, force: true })
})

describe('createCapabilityDetector', () => {
  it('knows everything after start, with each absence and its reason', async () => {
    const d = make({ slotsTotal: 2, name: 'box' })
    expect(d.snapshot().clis.every((c) => !c.available && c.absence.reason === 'not-probed')).toBe(true)
    await d.start()
    expect(d.running).toBe(true)
    const s = d.snapshot()
    expect(s.probedAt).toBeGreaterThan(0)
    expect(s.clis.map((c) => [c.name, c.available ? 'ok' : c.absence.reason])).toEqual([
      ['claude', 'ok'], ['gemini', 'timed-out'], ['codex', 'failed'], ['opencode', 'not-installed'], ['ollama', 'not-installed'], ['aider', 'not-installed']
    ])
    expect(s.ollama).toMatchObject({ available: true, source: 'api' })
    expect(s.gpus.gpus).toHaveLength(1)

    const msg = d.toMessage()
    expect(decode(encode(msg))).toEqual(msg)
    expect(msg).toMatchObject({
      type: 'capabilities',
      node_id: 'test-node',
      gpu: 37,
      models: ['deepseek-r1:latest', 'llama3.2:latest'],
      loaded_models: ['llama3.2:latest'],
      installed: ['claude'],
      versions: { claude: '1.0.67' },
      status: 'idle',
      slots_free: 2,
      slots_total: 2,
      name: 'box',
      gpus: [{ name: 'NVIDIA H100 80GB HBM3', util: 37, mem_total_mb: 81559, mem_used_mb: 4000 }]
    })
    const ping = d.toPresencePing({ activeTasks: ['o/r#1'], seq: 1 })
    expect(decode(encode(ping))).toEqual(ping)

    expect(satisfies(s, { models: ['llama3.2'], clis: ['claude-cli'], gpu: true, min_gpu_mem_free_mb: 70000 })).toEqual({ ok: true })
    expect(satisfies(msg, { models: ['llama3.2'], clis: ['claude-cli'], gpu: true, min_gpu_mem_free_mb: 70000 })).toEqual({ ok: true })
    expect(satisfies(msg, { clis: ['gemini'] })).toEqual({ ok: false, missing: [{ kind: 'cli', name: 'gemini' }] })
  })

  it('reports status and slot changes once each, and refuses bad values', async () => {
    const d = make({ slotsTotal: 2 })
    const seen = collect(d)
    await d.start()
    d.setStatus('busy')
    d.setStatus('busy')
    d.setSlots(1)
    d.setSlots(1, 2)
    expect(seen).toEqual([
      [{ kind: 'status', from: 'idle', to: 'busy' }],
      [{ kind: 'slots', from: { free: 2, total: 2 }, to: { free: 1, total: 2 } }]
    ])
    expect(() => { d.setSlots(3) }).toThrow(InvalidArgumentError)
    expect(() => { d.setSlots(-1, 2) }).toThrow(InvalidArgumentError)
    expect(() => { d.setSlots(1.5, 2) }).toThrow(InvalidArgumentError)
    expect(() => { d.setStatus('asleep' as 'idle') }).toThrow(InvalidArgumentError)
    expect(d.toMessage()).toMatchObject({ status: 'busy', slots_free: 1, slots_total: 2 })
  })

  it('reports a new model on demand, and the models gone when Ollama stops', async () => {
    const d = make({ clis: ['claude'] })
    const seen = collect(d)
    await d.start()
    tags.models.push({ name: 'qwen2.5-coder:7b', model: 'qwen2.5-coder:7b', size: 1, digest: 'x', details: {} })
    await d.refresh({ probes: ['models'] })
    expect(seen).toEqual([[{ kind: 'models', added: ['qwen2.5-coder:7b'], removed: [] }]])

    await stopOllama()
    try {
      await d.refresh({ probes: ['models'] })
      expect(seen[1]).toEqual([
        { kind: 'models', added: [], removed: ['deepseek-r1:latest', 'llama3.2:latest', 'qwen2.5-coder:7b'] },
        { kind: 'loaded-models', added: [], removed: ['llama3.2:latest'] }
      ])
      expect(d.snapshot().ollama).toMatchObject({ available: false, absence: { reason: 'not-installed' }, api: { reason: 'not-running' } })
      const msg = d.toMessage()
      expect(msg.models).toEqual([])
      expect(decode(encode(msg))).toEqual(msg)
    } finally {
      await startOllama()
    }
  })

  it('samples the load on its interval and reports a real change, not a wobble', async () => {
    const GiB = 1024 ** 3
    let available = 12 * GiB
    let reads = 0
    const d = make({ clis: [], loadIntervalMs: 20, loadChange: { delta: 20, thresholds: [50], hysteresis: 5 } }, {
      memory: async () => { reads++; return { total: 16 * GiB, available } }
    })
    const seen = collect(d)
    await d.start()
    expect(d.snapshot().load.mem).toBe(25)
    // Wobble: 25 % → 26 %, over several samples: nothing to report.
    available = 11.84 * GiB
    const after = reads
    await until(() => reads >= after + 5)
    expect(seen).toEqual([])
    // 25 % → 75 %: reported.
    available = 4 * GiB
    await until(() => seen.length > 0)
    expect(seen[0]).toEqual([{ kind: 'load', metric: 'mem', from: 25, to: 75 }])
  })

  it('sends a keepalive when nothing was reported for keepAliveMs', async () => {
    const d = make({ clis: [], keepAliveMs: 100 })
    let keepalives = 0
    d.addEventListener('keepalive', () => { keepalives++ })
    await d.start()
    await until(() => keepalives >= 2)
  })

  it('joins a probe already running instead of starting another', async () => {
    const d = make({ clis: ['claude'] })
    const count = async (): Promise<number> => (await readFile(join(dir, 'claude.calls'), 'utf8').catch(() => '')).split('\n').filter((l) => l.length > 0).length
    const before = await count()
    await Promise.all([d.refresh({ probes: ['clis'] }), d.refresh({ probes: ['clis'] }), d.refresh({ probes: ['clis'] })])
    const calls = await count()
    // Three refreshes at once ran the CLI once; the next refresh runs it again.
    expect(calls - before).toBe(1)
    await d.refresh({ probes: ['clis'] })
    expect(await count() - calls).toBe(1)
  })

  it('gives up waiting at the caller\'s abort', async () => {
    const d = make({ clis: ['slow'], cliTimeoutMs: 60_000 })
    const controller = new AbortController()
    const p = d.refresh({ probes: ['clis'], signal: controller.signal })
    controller.abort(new Error('caller gave up'))
    await expect(p).rejects.toThrow('caller gave up')
  })

  it('a second start while the first is probing resolves only once the snapshot is complete', async () => {
    const d = make({ clis: ['sleepy'] })
    const first = d.start()
    await d.start()
    expect(d.running).toBe(true)
    expect(d.snapshot().probedAt).toBeGreaterThan(0)
    expect(d.snapshot().clis).toMatchObject([{ name: 'sleepy', available: true, version: '2.1.0' }])
    await first
  })

  it('can start after a start the caller aborted', async () => {
    const d = make({ clis: [] })
    await expect(d.start({ signal: AbortSignal.abort(new Error('not now')) })).rejects.toThrow('not now')
    expect(d.running).toBe(false)
    await d.start()
    expect(d.running).toBe(true)
  })

  it('cuts off running probes when stopped, killing a hung CLI, and cannot start again', async () => {
    await rm(join(dir, 'slow.pid'), { force: true })
    const d = make({ clis: ['slow'], cliTimeoutMs: 60_000 })
    const p = d.refresh()
    let pid = 0
    await until(async () => {
      pid = Number((await readFile(join(dir, 'slow.pid'), 'utf8').catch(() => '')).trim())
      return pid > 0
    })
    const stopped = Date.now()
    await d.stop()
    expect(Date.now() - stopped).toBeLessThan(10_000)
    await expect(p).rejects.toThrow(DetectorStoppedError)
    await until(() => !alive(pid))
    expect(d.running).toBe(false)
    await expect(d.start()).rejects.toThrow(DetectorStoppedError)
    await expect(d.refresh()).rejects.toThrow(DetectorStoppedError)
    await d.stop() // twice is fine
  })

  it('stop waits for probes only as long as its signal allows', async () => {
    // A memory reading that never answers (the abort cannot reach it).
    let asked = false
    const d = make({ clis: [] }, { memory: async () => { asked = true; return await new Promise(() => {}) } })
    const p = d.refresh({ probes: [] })
    await until(() => asked)
    const gaveUp = new Error('stop took too long')
    await expect(d.stop({ signal: AbortSignal.timeout(200) })).rejects.toThrow(/timed? ?out|aborted/i)
    await expect(d.stop({ signal: AbortSignal.abort(gaveUp) })).resolves.toBeUndefined() // already stopped
    expect(d.running).toBe(false)
    void p.catch(() => {})
  })

  it.each<[string, Partial<CapabilityDetectorInit>]>([
    ['nodeId', { nodeId: '' }],
    ['nodeId', { nodeId: 'x'.repeat(129) }],
    ['clis[1].name', { clis: ['a', 'a'] }],
    ['clis[0].name', { clis: [''] }],
    ['cliTimeoutMs', { cliTimeoutMs: -1 }],
    ['loadIntervalMs', { loadIntervalMs: 0 }],
    ['keepAliveMs', { keepAliveMs: Number.NaN }],
    ['slotsTotal', { slotsTotal: 2000 }],
    ['slotsFree', { slotsTotal: 1, slotsFree: 2 }],
    ['status', { status: 'sleeping' as 'idle' }],
    ['ollamaHost', { ollamaHost: 'ftp://x' }],
    ['name', { name: 'n'.repeat(257) }]
  ])('refuses a bad %s', (option, init) => {
    let error: unknown
    try { make(init) } catch (err) { error = err }
    expect(error).toBeInstanceOf(InvalidOptionsError)
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTIONS', option })
  })

  it('runs on the machine itself with the real systeminformation', async () => {
    const d = createCapabilityDetector({
      nodeId: 'real',
      clis: ['node'],
      env: { PATH: dirname(process.execPath) },
      ollamaHost: ollamaUrl
    })
    detectors.push(d)
    await d.start()
    const s = d.snapshot()
    expect(s.clis[0]).toMatchObject({ name: 'node', available: true, version: process.versions.node })
    expect(s.load.memTotalMb).toBeGreaterThan(0)
    expect(s.gpus.gpus.length > 0 || s.gpus.absence !== undefined).toBe(true)
    const msg = d.toMessage()
    expect(decode(encode(msg))).toEqual(msg)
    expect(satisfies(msg, { clis: ['node'], min_mem_free_mb: 1 })).toEqual({ ok: true })
  })
})
