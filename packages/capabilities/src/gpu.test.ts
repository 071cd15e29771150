import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import * as si from 'systeminformation'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gpusFromControllers, parseNvidiaSmi, probeGpus, type GraphicsController } from './gpu.js'

// What systeminformation 5 gives on a GPU server: the BMC's VGA, and an H100 merged with
// nvidia-smi's data. It drops nvidia-smi's zeros, so an idle GPU has no utilisation or used memory.
const ASPEED: GraphicsController = { vendor: 'ASPEED Technology, Inc.', model: 'ASPEED Graphics Family', bus: 'Onboard', busAddress: '03:00.0', vram: 8, vramDynamic: false }
const H100_BUSY: GraphicsController = {
  vendor: 'NVIDIA Corporation', model: 'GH100 [H100 SXM5 80GB]', bus: 'Onboard', busAddress: '18:00.0', vram: 81559, vramDynamic: false,
  name: 'NVIDIA H100 80GB HBM3', pciBus: '00000000:18:00.0', memoryTotal: 81559, memoryUsed: 4000, memoryFree: 77559, utilizationGpu: 37
}
const H100_IDLE: GraphicsController = {
  vendor: 'NVIDIA Corporation', model: 'GH100 [H100 SXM5 80GB]', bus: 'Onboard', busAddress: '18:00.0', vram: 81559, vramDynamic: false,
  name: 'NVIDIA H100 80GB HBM3', pciBus: '00000000:18:00.0', memoryTotal: 81559, memoryFree: 81004
}
const INTEL_IGPU: GraphicsController = { vendor: 'Intel Corporation', model: 'Alder Lake-P GT2 [Iris Xe Graphics]', bus: 'Onboard', vram: 256, vramDynamic: true }
const VIRTIO: GraphicsController = { vendor: 'Red Hat, Inc.', model: 'Virtio 1.0 GPU', bus: 'PCI', vram: 16, vramDynamic: false }

const SMI_CSV = 'NVIDIA H100 80GB HBM3, 00000000:18:00.0, 81559, 555, 81004, 0\nNVIDIA H100 80GB HBM3, 00000000:2A:00.0, 81559, 70000, 11559, 98\n'

let dir: string
let bin: string

async function fakeSmi (body: string): Promise<string> {
  const path = join(bin, 'nvidia-smi')
  await writeFile(path, `#!/bin/sh\necho called >> "${dir}/smi.calls"\n${body}\n`)
  await chmod(path, 0o755)
  return path
}

async function smiCalls (): Promise<number> {
  return (await readFile(join(dir, 'smi.calls'), 'utf8').catch(() => '')).split('\n').filter((l) => l.length > 0).length
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bzzz-caps-gpu-'))
  bin = join(dir, 'bin')
  await mkdir(bin)
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('gpusFromControllers', () => {
  it('keeps compute GPUs with their driver figures and sets display-only adapters aside', () => {
    expect(gpusFromControllers([ASPEED, H100_BUSY, INTEL_IGPU, VIRTIO])).toEqual({
      gpus: [
        { name: 'NVIDIA H100 80GB HBM3', vendor: 'NVIDIA Corporation', util: 37, memTotalMb: 81559, memUsedMb: 4000, memFreeMb: 77559, bus: '00000000:18:00.0', source: 'systeminformation' },
        { name: 'Alder Lake-P GT2 [Iris Xe Graphics]', vendor: 'Intel Corporation', source: 'systeminformation' }
      ],
      ignored: ['ASPEED Graphics Family', 'Virtio 1.0 GPU']
    })
  })

  it('never throws, and keeps percentages and memory in range', () => {
    const controller = fc.record({
      vendor: fc.option(fc.string(), { nil: undefined }),
      model: fc.option(fc.string(), { nil: undefined }),
      name: fc.option(fc.string(), { nil: undefined }),
      vram: fc.option(fc.oneof(fc.double(), fc.constant(null)), { nil: undefined }),
      vramDynamic: fc.option(fc.boolean(), { nil: undefined }),
      memoryTotal: fc.option(fc.double(), { nil: undefined }),
      memoryUsed: fc.option(fc.double(), { nil: undefined }),
      utilizationGpu: fc.option(fc.double(), { nil: undefined })
    }, { requiredKeys: [] })
    fc.assert(fc.property(fc.array(controller, { maxLength: 5 }), (cs) => {
      const { gpus, ignored } = gpusFromControllers(cs)
      expect(gpus.length + ignored.length).toBe(cs.length)
      for (const g of gpus) {
        expect(g.name.length).toBeGreaterThan(0)
        if (g.util !== undefined) expect(g.util >= 0 && g.util <= 100).toBe(true)
        for (const v of [g.memTotalMb, g.memUsedMb, g.memFreeMb]) if (v !== undefined) expect(Number.isFinite(v) && v >= 0).toBe(true)
      }
    }))
  })
})

describe('parseNvidiaSmi', () => {
  it('reads one GPU a line', () => {
    expect(parseNvidiaSmi(SMI_CSV)).toEqual([
      { name: 'NVIDIA H100 80GB HBM3', vendor: 'NVIDIA', bus: '00000000:18:00.0', memTotalMb: 81559, memUsedMb: 555, memFreeMb: 81004, util: 0, source: 'nvidia-smi' },
      { name: 'NVIDIA H100 80GB HBM3', vendor: 'NVIDIA', bus: '00000000:2A:00.0', memTotalMb: 81559, memUsedMb: 70000, memFreeMb: 11559, util: 98, source: 'nvidia-smi' }
    ])
  })

  it('leaves out what the driver does not support, and keeps commas in names', () => {
    expect(parseNvidiaSmi('Tesla K80, Rev 2, [N/A], 11441, 0, 11441, [Not Supported]\n\ngarbage\n')).toEqual([
      { name: 'Tesla K80, Rev 2', vendor: 'NVIDIA', memTotalMb: 11441, memUsedMb: 0, memFreeMb: 11441, source: 'nvidia-smi' }
    ])
  })
})

describe('probeGpus', () => {
  const graphics = (controllers: GraphicsController[]) => async () => ({ controllers })

  it('trusts systeminformation when it gives complete NVIDIA figures', async () => {
    await fakeSmi(`printf '%s' "${SMI_CSV}"`)
    const before = await smiCalls()
    const state = await probeGpus({ graphics: graphics([ASPEED, H100_BUSY]), env: { PATH: bin }, timeoutMs: 5000 })
    expect(state.gpus.map((g) => [g.source, g.util])).toEqual([['systeminformation', 37]])
    expect(state.ignored).toEqual(['ASPEED Graphics Family'])
    expect(await smiCalls()).toBe(before)
  })

  it('asks nvidia-smi itself when systeminformation dropped an idle GPU\'s zeros', async () => {
    await fakeSmi(`printf '%s' "${SMI_CSV}"`)
    const state = await probeGpus({ graphics: graphics([ASPEED, H100_IDLE]), env: { PATH: bin }, timeoutMs: 5000 })
    expect(state.gpus.map((g) => [g.source, g.bus, g.util, g.memUsedMb])).toEqual([
      ['nvidia-smi', '00000000:18:00.0', 0, 555],
      ['nvidia-smi', '00000000:2A:00.0', 98, 70000]
    ])
    expect(state.absence).toBeUndefined()
  })

  it('asks nvidia-smi when systeminformation finds nothing (no lspci in a container)', async () => {
    await fakeSmi(`printf '%s' "${SMI_CSV}"`)
    const state = await probeGpus({ graphics: graphics([]), env: { PATH: bin }, timeoutMs: 5000 })
    expect(state.gpus).toHaveLength(2)
  })

  it('says not installed when there is no GPU, naming display adapters set aside', async () => {
    const state = await probeGpus({ graphics: graphics([ASPEED]), env: { PATH: join(dir, 'none') }, timeoutMs: 5000 })
    expect(state).toEqual({ gpus: [], ignored: ['ASPEED Graphics Family'], absence: { reason: 'not-installed', detail: 'no compute GPU (display adapters only: ASPEED Graphics Family)' } })
  })

  it('says failed when nvidia-smi fails and nothing else is found', async () => {
    await fakeSmi('echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver." >&2\nexit 9')
    const state = await probeGpus({ graphics: graphics([]), env: { PATH: bin }, timeoutMs: 5000 })
    expect(state.absence?.reason).toBe('failed')
    expect(state.absence?.detail).toContain('exit code 9')
  })

  it('says timed out when systeminformation or nvidia-smi hangs', async () => {
    await fakeSmi('exec sleep 1000')
    const hangs = async (): Promise<{ controllers: GraphicsController[] }> => await new Promise(() => {})
    expect((await probeGpus({ graphics: hangs, env: { PATH: join(dir, 'none') }, timeoutMs: 300 })).absence?.reason).toBe('timed-out')
    expect((await probeGpus({ graphics: graphics([]), env: { PATH: `${bin}:/usr/bin:/bin` }, timeoutMs: 300 })).absence?.reason).toBe('timed-out')
  })

  it('says failed when systeminformation throws', async () => {
    const state = await probeGpus({ graphics: async () => { throw new Error('lspci exploded') }, env: { PATH: join(dir, 'none') }, timeoutMs: 5000 })
    expect(state.absence).toEqual({ reason: 'failed', detail: 'systeminformation.graphics(): lspci exploded' })
  })

  it('works with the real systeminformation on this machine', async () => {
    const state = await probeGpus({ graphics: async () => await si.graphics(), env: process.env, timeoutMs: 30_000 })
    if (state.gpus.length === 0) expect(state.absence).toBeDefined()
    else expect(state.absence).toBeUndefined()
    for (const g of state.gpus) expect(g.name.length).toBeGreaterThan(0)
  })
})
