// Model-based: fast-check `commands` drive the REAL runner through the scripted agent's faults
// (hang, crash, no change, denied, slow, never exits, over budget, cancelled); the model says
// how each run must end, and no process may be left after any of them.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseJsonlLine } from './command-adapter.js'
import { detectContainment } from './isolation.js'
import { runProcess, type ProcessRunResult } from './process-runner.js'
import { leftOver, newMark, SCRIPTED_AGENT } from './fixtures.test.util.js'
import type { RunState } from './run-machine.js'
import type { RunLimits } from './types.js'

const limits: RunLimits = { wallClockMs: 4000, inactivityMs: 300, exitGraceMs: 200, killGraceMs: 200, maxTokens: 5000 }

interface Model { runs: number }
interface Real { dir: string }

/** Allowed state changes (the runner reports each new state name). */
const NEXT: Record<RunState['name'], ReadonlyArray<RunState['name']>> = {
  running: ['finishing', 'stopping', 'exited'],
  finishing: ['stopping', 'exited'],
  stopping: ['exited'],
  exited: []
}

type Expect = (r: ProcessRunResult) => void

class Fault implements fc.AsyncCommand<Model, Real> {
  constructor (readonly name: string, readonly args: string[], readonly expectation: Expect, readonly abortAfterMs?: number) {}
  check (): boolean { return true }
  async run (model: Model, real: Real): Promise<void> {
    const mark = newMark()
    const states: Array<RunState['name']> = []
    const controller = new AbortController()
    const timer = this.abortAfterMs !== undefined ? setTimeout(() => { controller.abort() }, this.abortAfterMs) : undefined
    const r = await runProcess({
      command: { file: SCRIPTED_AGENT, args: this.args, env: {} },
      cwd: real.dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', MARK: mark },
      parser: parseJsonlLine,
      limits,
      logDir: real.dir,
      containment: await detectContainment(),
      tickMs: 25,
      signal: controller.signal,
      onState: (s) => { states.push(s.name) }
    })
    clearTimeout(timer)
    model.runs++
    this.expectation(r)
    for (let i = 1; i < states.length; i++) expect(NEXT[states[i - 1]!]).toContain(states[i])
    expect(states.at(-1)).toBe('exited')
    expect(await leftOver(mark)).toEqual([])
  }
  toString (): string { return this.name }
}

const faults: Array<fc.Arbitrary<fc.AsyncCommand<Model, Real>>> = [
  fc.constant(new Fault('hang', ['hang'], (r) => { expect(r.reason).toBe('inactivity') })),
  fc.constant(new Fault('crash', ['crash'], (r) => { expect(r).toMatchObject({ reason: 'exited', exitCode: 3, final: undefined }) })),
  fc.constant(new Fault('nochange', ['nochange'], (r) => { expect(r).toMatchObject({ reason: 'exited', exitCode: 0, final: { ok: true } }) })),
  fc.constant(new Fault('denied', ['denied'], (r) => { expect(r).toMatchObject({ reason: 'exited', exitCode: 0, toolCalls: 1, denied: 1 }) })),
  fc.integer({ min: 2, max: 6 }).map((n) => new Fault(`slow(${n})`, ['slow', String(n)], (r) => { expect(r).toMatchObject({ reason: 'exited', exitCode: 0, final: { ok: true } }) })),
  fc.constant(new Fault('never-exits', ['never-exits'], (r) => { expect(r).toMatchObject({ reason: 'exit_grace', final: { ok: true } }) })),
  fc.constant(new Fault('spend', ['spend'], (r) => { expect(r.reason).toBe('budget') })),
  fc.integer({ min: 0, max: 200 }).map((ms) => new Fault(`cancel@${ms}`, ['chatty'], (r) => { expect(r.reason).toBe('cancelled') }, ms))
]

let dir: string
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'bzzz-exec-model-')) })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

describe('the runner, model-based', () => {
  it('ends every scripted fault as the model says, and leaves no process', async () => {
    await fc.assert(fc.asyncProperty(fc.commands(faults, { maxCommands: 4 }), async (cmds) => {
      await fc.asyncModelRun(() => ({ model: { runs: 0 }, real: { dir } }), cmds)
    }), { numRuns: 4 })
  }, 120_000)
})
