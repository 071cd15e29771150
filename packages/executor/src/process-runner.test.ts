import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentCommand } from './agent.js'
import { parseJsonlLine } from './command-adapter.js'
import { DEFAULT_LIMITS } from './executor.js'
import { detectContainment, type Containment } from './isolation.js'
import { runProcess, type ProcessRunInit } from './process-runner.js'
import { leftOver, newMark, SCRIPTED_AGENT } from './fixtures.test.util.js'
import type { RunLimits } from './types.js'

let dir: string
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'bzzz-exec-runner-')) })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

const fast: RunLimits = { ...DEFAULT_LIMITS, wallClockMs: 20_000, inactivityMs: 10_000, exitGraceMs: 5000, killGraceMs: 300 }

async function run (args: string[], limits: Partial<RunLimits>, extra: Partial<ProcessRunInit> = {}): Promise<Awaited<ReturnType<typeof runProcess>> & { mark: string }> {
  const mark = newMark()
  const command: AgentCommand = { file: SCRIPTED_AGENT, args, env: {} }
  const result = await runProcess({
    command,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', MARK: mark },
    parser: parseJsonlLine,
    limits: { ...fast, ...limits },
    logDir: dir,
    containment: await detectContainment(),
    tickMs: 25,
    ...extra
  })
  return { ...result, mark }
}

describe('the process runner', () => {
  it('contains agents in a PID namespace here (root, as on CI)', async () => {
    expect(await detectContainment()).toBe('pid-namespace')
  })

  it('ends a silent agent at the inactivity limit, with its child and its setsid grandchild', async () => {
    const r = await run(['hang'], { inactivityMs: 400 })
    expect(r.reason).toBe('inactivity')
    expect(r.durationMs).toBeGreaterThanOrEqual(400)
    expect(await leftOver(r.mark)).toEqual([])
  })

  it('ends a chatty agent at the wall clock, with everything it started', async () => {
    const r = await run(['chatty'], { wallClockMs: 700, inactivityMs: 300 })
    expect(r.reason).toBe('wall_clock')
    expect(r.tail).toContain('working')
    expect(await leftOver(r.mark)).toEqual([])
  })

  it('ends an agent over its token budget', async () => {
    const r = await run(['spend'], { maxTokens: 5000 })
    expect(r.reason).toBe('budget')
    expect(r.usage.inputTokens + r.usage.outputTokens).toBeGreaterThan(5000)
  })

  it('ends an agent that never exits after its final event, after the grace', async () => {
    const r = await run(['never-exits'], { exitGraceMs: 300 })
    expect(r.reason).toBe('exit_grace')
    expect(r.final).toEqual({ ok: true })
    expect(await leftOver(r.mark)).toEqual([])
  })

  it('ends the whole tree when its signal aborts, leaving no process', async () => {
    const controller = new AbortController()
    setTimeout(() => { controller.abort() }, 300)
    const r = await run(['hang'], {}, { signal: controller.signal })
    expect(r.reason).toBe('cancelled')
    expect(await leftOver(r.mark)).toEqual([])
  })

  it('reads output past 64 KiB in full (a file, not a pipe) and gives stdin as /dev/null', async () => {
    const script = 'read -t 5 x; echo "{\\"type\\":\\"message\\",\\"text\\":\\"stdin=$?\\"}"; for i in $(seq 1 4000); do echo "{\\"type\\":\\"message\\",\\"text\\":\\"line $i ..............................\\"}"; done; echo "{\\"type\\":\\"final\\",\\"ok\\":true}"'
    const events: string[] = []
    const r = await runProcess({
      command: { file: 'bash', args: ['-c', script], env: {} },
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      parser: parseJsonlLine,
      limits: fast,
      logDir: dir,
      containment: await detectContainment(),
      tickMs: 25,
      onEvent: (e) => { if (e.type === 'message') events.push(e.text) }
    })
    expect(r.reason).toBe('exited')
    expect(r.exitCode).toBe(0)
    expect(r.outputBytes).toBeGreaterThan(64 * 1024)
    // read on /dev/null ends at once with end-of-file (status 1), never waits for the 5 s.
    expect(events[0]).toBe('stdin=1')
    expect(events).toHaveLength(4001)
    expect(events.at(-1)).toBe('line 4000 ..............................')
    expect(r.durationMs).toBeLessThan(5000)
  })

  it('sees an agent that exits at once exit, every time (its exit is not missed)', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await runProcess({
        command: { file: 'bash', args: ['-c', 'echo \'{"type":"final","ok":true}\''], env: {} },
        cwd: dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        parser: parseJsonlLine,
        limits: { ...fast, inactivityMs: 3000, wallClockMs: 4000 },
        logDir: dir,
        containment: await detectContainment(),
        tickMs: 25
      })
      expect(r).toMatchObject({ reason: 'exited', exitCode: 0, final: { ok: true } })
    }
  })

  it('ends the run when the output passes its cap', async () => {
    const r = await run(['chatty'], {}, { maxOutputBytes: 600 })
    expect(r.reason).toBe('output_limit')
    expect(await leftOver(r.mark)).toEqual([])
  })

  it('with only a process group (the fallback), a setsid grandchild escapes: why a PID namespace is used', async () => {
    const containment: Containment = 'process-group'
    const r = await run(['hang'], { inactivityMs: 300 }, { containment })
    expect(r.reason).toBe('inactivity')
    const left = await leftOver(r.mark, 300)
    expect(left.some((l) => l.includes('1001.'))).toBe(true)
    expect(left.some((l) => l.includes('1000.'))).toBe(false)
    for (const l of left) process.kill(Number(l.split(':')[0]), 'SIGKILL')
  })
})
