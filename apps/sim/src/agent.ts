/**
 * The scripted agent: an in-process agent adapter whose every run draws its fate (work time,
 * failure, hang) from the scenario's seed, writes one file into the workspace, and reports
 * when it starts and ends. The task comes from a `[sim-task owner/repo#N]` tag the seeded
 * issues carry in their body, which the executor puts in the prompt.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { AgentEvent, InProcessAgentAdapter } from '@bzzz/executor'
import type { Scenario } from './scenario.js'
import { seededRandom } from './random.js'

export type AgentFate = { kind: 'work', ms: number } | { kind: 'fail', ms: number } | { kind: 'hang' }

/** The fate of one run, from a uniform draw per question. Pure. */
export function drawFate (agent: Scenario['agent'], r: () => number): AgentFate {
  const [lo, hi] = agent.workMs
  const ms = Math.round(lo + r() * (hi - lo))
  const hang = r() < agent.hangRate
  const fail = r() < agent.failRate
  if (hang) return { kind: 'hang' }
  return fail ? { kind: 'fail', ms } : { kind: 'work', ms }
}

const TAG = /\[sim-task ([^\]\s]+)\]/

export function taskOfPrompt (prompt: string): string | undefined {
  return TAG.exec(prompt)?.[1]
}

export interface ScriptedAgentInit {
  peer: string
  agent: Scenario['agent']
  seed: number
  /** Told when a run starts and how it ends (`ok: false` for failed, hung or aborted runs). */
  onRun?: (what: { task: string, phase: 'start' } | { task: string, phase: 'end', ok: boolean }) => void
}

export function createScriptedAgent (init: ScriptedAgentInit): InProcessAgentAdapter {
  // One generator per peer, so that peers' draws do not depend on each other's timing.
  let hash = init.seed >>> 0
  for (const c of init.peer) hash = Math.imul(hash ^ c.charCodeAt(0), 16777619) >>> 0
  const random = seededRandom(hash)
  return {
    kind: 'in-process',
    name: 'scripted',
    async run (spec, { signal, onEvent }) {
      const task = taskOfPrompt(spec.prompt) ?? 'unknown'
      const fate = drawFate(init.agent, random)
      init.onRun?.({ task, phase: 'start' })
      let ok = false
      try {
        const emit = (e: AgentEvent): void => { onEvent(e) }
        emit({ type: 'message', text: `scripted agent on ${task}: ${fate.kind}` })
        if (fate.kind === 'hang') {
          await sleep(2 ** 31 - 1, undefined, { signal })
          return
        }
        if (fate.ms > 0) await sleep(fate.ms, undefined, { signal })
        if (fate.kind === 'fail') {
          emit({ type: 'error', message: 'scripted failure' })
          emit({ type: 'final', ok: false, reason: 'error', text: 'the scripted agent failed on purpose' })
          return
        }
        const file = `sim-${task.replace(/[^A-Za-z0-9]+/g, '-')}.md`
        await writeFile(join(spec.cwd, file), `# ${task}\n\nDone by ${init.peer}.\n`, { signal })
        emit({ type: 'file_change', path: file })
        emit({ type: 'final', ok: true, text: `wrote ${file}` })
        ok = true
      } finally {
        init.onRun?.({ task, phase: 'end', ok })
      }
    }
  }
}
