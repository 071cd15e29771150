import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os, { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LoadSampler, cpuPercent, cpuTimes, readMemory } from './load.js'

let dir: string
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'bzzz-caps-load-')) })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

const times = fc.record({ user: fc.nat(1e9), nice: fc.nat(1e9), sys: fc.nat(1e9), idle: fc.nat(1e9), irq: fc.nat(1e9) })

describe('cpuPercent', () => {
  it('is within 0..100 for any two readings, and 0 when no time passed', () => {
    fc.assert(fc.property(fc.array(fc.record({ times }), { maxLength: 8 }), fc.array(fc.record({ times }), { maxLength: 8 }), (a, b) => {
      const p = cpuPercent(cpuTimes(a), cpuTimes(b))
      expect(p >= 0 && p <= 100).toBe(true)
      expect(cpuPercent(cpuTimes(a), cpuTimes(a))).toBe(0)
    }))
  })

  it('is busy time over total time', () => {
    const at = (busy: number, idle: number): CpuTimesLike => ({ times: { user: busy, nice: 0, sys: 0, irq: 0, idle } })
    expect(cpuPercent(cpuTimes([at(100, 100)]), cpuTimes([at(175, 125)]))).toBe(75)
    expect(cpuPercent(cpuTimes([at(0, 0), at(0, 0)]), cpuTimes([at(100, 0), at(0, 100)]))).toBe(50)
  })
})

type CpuTimesLike = Parameters<typeof cpuTimes>[0][number]

describe('LoadSampler on this machine', () => {
  it('samples CPU and memory within range', async () => {
    const sampler = new LoadSampler()
    // Keep a core busy for a moment so the interval holds some work.
    const until = Date.now() + 200
    while (Date.now() < until) { /* spin */ }
    const s = await sampler.sample()
    expect(s.cpu).toBeGreaterThan(0)
    expect(s.cpu).toBeLessThanOrEqual(100)
    expect(s.mem).toBeGreaterThan(0)
    expect(s.mem).toBeLessThan(100)
    expect(Math.abs(s.memTotalMb - os.totalmem() / 1048576)).toBeLessThan(2)
    expect(s.memFreeMb).toBeLessThanOrEqual(s.memTotalMb)
    const m = await readMemory()
    expect(m.available).toBeGreaterThan(0)
    expect(m.available).toBeLessThanOrEqual(m.total)
  })

  // Sampling the load must not start a process each time. `strace` sees every execve of a
  // node running the sampler; the control (systeminformation's currentLoad, which runs
  // `cat /proc/stat` through a shell) shows that the method does see spawns.
  const strace = spawnSync('strace', ['-V']).status === 0
  it.skipIf(!strace || process.platform !== 'linux')('spawns no process while sampling (strace)', async () => {
    const loadTs = fileURLToPath(new URL('./load.ts', import.meta.url))
    const execves = async (code: string, name: string): Promise<number> => {
      const out = join(dir, `${name}.strace`)
      const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-o', out, process.execPath, '--input-type=module', '-e', code], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        encoding: 'utf8',
        timeout: 60_000
      })
      expect(r.status, r.stderr).toBe(0)
      return (await readFile(out, 'utf8')).split('\n').filter((l) => l.includes('execve(')).length
    }
    const sampler = await execves(`
      import { LoadSampler } from ${JSON.stringify(loadTs)}
      const s = new LoadSampler()
      for (let i = 0; i < 20; i++) { await new Promise((r) => setTimeout(r, 5)); await s.sample() }
    `, 'sampler')
    const control = await execves(`
      import * as si from 'systeminformation'
      for (let i = 0; i < 3; i++) { await new Promise((r) => setTimeout(r, 250)); await si.currentLoad() }
    `, 'control')
    expect(sampler).toBe(1) // node itself
    expect(control).toBeGreaterThan(1)
  })
})
