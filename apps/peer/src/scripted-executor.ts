// An executor with a scripted agent: each step writes one file, commits and pushes it as WIP.
// A step whose file the WIP branch already has is skipped, so a takeover visibly continues
// where the last holder stopped. For tests, the simulation and `task run` dry runs.
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TaskExecutor, TaskOutcome, TaskWork } from './execution.js'
import { openWorkspace, type GitIdentity } from './git.js'

export interface ScriptedStep {
  /** Path in the repository. `{issue}` is replaced by the issue number. */
  file: string
  content: string
  /** Wait before writing it (ms). Default 0. */
  delayMs?: number
}

export interface ScriptedExecutorInit {
  identity: GitIdentity
  /** Default one step writing `issue-{issue}.md`. */
  steps?: ScriptedStep[]
  /** Instead of working: ask for help with this capability (e.g. `claude`), as an agent that cannot finish. */
  needs?: string
  /** Instead of working: fail with this reason. */
  failWith?: string
  /** Capabilities it offers to peers asking for help. */
  offers?: readonly string[]
}

export function createScriptedExecutor (init: ScriptedExecutorInit): TaskExecutor {
  const steps = init.steps ?? [{ file: 'issue-{issue}.md', content: 'Resolved by a scripted agent.\n' }]
  return {
    offers: init.offers ?? [],
    run: async (work: TaskWork): Promise<TaskOutcome> => {
      const ws = await openWorkspace(work, init.identity)
      if (init.failWith !== undefined) return { kind: 'failure', reason: init.failWith, tried: 'the scripted agent' }
      if (init.needs !== undefined) {
        // Leave some WIP for the helper to continue from.
        await writeFile(join(ws.dir, `notes-${work.issue}.md`), `Started by ${init.identity.name}; needs ${init.needs}.\n`)
        if (await ws.commitAll(`WIP #${work.issue}: notes`)) {
          await ws.push()
          work.wipPushed(work.branch)
        }
        return { kind: 'help', capability: init.needs, reason: `the agent needs ${init.needs}` }
      }
      let wrote = 0
      const last = steps.length - 1
      for (const [i, step] of steps.entries()) {
        const file = step.file.replaceAll('{issue}', String(work.issue))
        const path = join(ws.dir, file)
        if (existsSync(path)) {
          work.progress({ kind: 'message', text: `${file} is already there (earlier work)` })
          continue
        }
        try {
          if ((step.delayMs ?? 0) > 0) await sleep(step.delayMs, undefined, { signal: work.signal })
        } catch {
          return { kind: 'stopped', wipPushed: wrote > 0 }
        }
        await mkdir(dirname(path), { recursive: true })
        await writeFile(path, step.content)
        work.progress({ kind: 'file_change', text: file })
        const committed = await ws.commitAll(`WIP #${work.issue}: ${file}`)
        // The last step is written: the agent's work is done, the push waits for the claim's fence.
        if (i === last) work.agentEnded()
        if (committed) {
          await ws.push()
          work.wipPushed(work.branch)
          wrote++
        }
      }
      return { kind: 'changes', title: `Resolve #${work.issue}`, summary: `Scripted agent: ${steps.length} step(s).` }
    }
  }
}
