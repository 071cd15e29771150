// The node's executor seam filled by @bzzz/executor: an agent adapter (claude, codex, gemini,
// opencode, ollama, a command) run on the task's branch, WIP pushed as it goes, the result
// published by the executor; the node completes the claim and announces it.
import { createExecutor, type AgentAdapter, type Executor, type ExecutorEvent, type ExecutorInit, type ExecutorOutcome } from '@bzzz/executor'
import type { ClaimHandle, Publisher } from '@bzzz/github'
import type { ProgressEvent } from './events.js'
import type { TaskExecutor, TaskOutcome, TaskWork } from './execution.js'

export interface AgentExecutorInit extends Omit<ExecutorInit<ClaimHandle>, 'publisher' | 'gitEnv' | 'agent'> {
  agent: AgentAdapter
  /** Capabilities offered to peers asking for help (default: the agent's name). */
  offers?: readonly string[]
  /**
   * When the agent fails (any failure the executor would report), ask the mesh for this
   * capability instead (e.g. an Ollama model failed: ask for `claude`). The executor's failure
   * report is held back; the node posts one only when nobody can help.
   */
  escalate?: string
}

/** The node's publisher with failure reports held back (escalation): which claims had one. */
function holdingFailureReports (publisher: Publisher): { publisher: Publisher, held: WeakSet<ClaimHandle> } {
  const held = new WeakSet<ClaimHandle>()
  const wrapped = Object.create(publisher) as Publisher
  wrapped.reportFailure = async (claim) => {
    held.add(claim)
    return { number: 0, url: '', created: false }
  }
  return { publisher: wrapped, held }
}

function progressOf (event: ExecutorEvent): ProgressEvent | undefined {
  switch (event.type) {
    case 'state': return { kind: 'message', text: `phase ${event.state}` }
    case 'wip': return { kind: 'git', text: `WIP pushed to ${event.branch} (${event.commit.slice(0, 8)})` }
    case 'ended': return { kind: 'message', text: `ended: ${event.outcome}` }
    case 'agent': {
      const e = event.event
      switch (e.type) {
        case 'message': return { kind: 'message', text: e.text.slice(0, 500) }
        case 'tool_call': return { kind: 'tool_call', text: e.name }
        case 'file_change': return { kind: 'file_change', text: e.path }
        case 'usage': return { kind: 'usage', text: `in ${e.inputTokens ?? 0} out ${e.outputTokens ?? 0}${e.costUsd !== undefined ? ` $${e.costUsd.toFixed(4)}` : ''}` }
        case 'error': return { kind: 'error', text: e.message.slice(0, 500) }
        case 'final': return { kind: 'message', text: `final: ${e.ok ? 'ok' : e.reason ?? 'failed'}` }
        default: return undefined
      }
    }
  }
}

export function toTaskOutcome (out: ExecutorOutcome): TaskOutcome {
  switch (out.type) {
    case 'pull_request': return { kind: 'published', type: 'pull_request', url: out.url }
    case 'issues': return { kind: 'published', type: 'issue', url: out.followUps[0]?.url ?? '' }
    case 'failure': return out.report !== undefined
      ? { kind: 'published', type: 'failure', url: out.report.url, reason: out.reason }
      : { kind: 'failure', reason: out.reason, tried: out.tried }
    // The executor names a missing agent CLI `agent:<name>`; peers offer the agent by its name.
    case 'help': return { kind: 'help', capability: (out.capabilities[0] ?? '').replace(/^agent:/, ''), reason: out.reason }
    case 'cancelled': return { kind: 'stopped', wipPushed: out.wip !== undefined }
  }
}

/** A `TaskExecutor` that runs `agent` through @bzzz/executor. */
export function createAgentExecutor (init: AgentExecutorInit): TaskExecutor & { close: () => Promise<void> } {
  let executor: Executor<ClaimHandle> | undefined
  const { offers, escalate, ...rest } = init
  let held: WeakSet<ClaimHandle> | undefined
  return {
    offers: offers ?? [init.agent.name],
    run: async (work: TaskWork): Promise<TaskOutcome> => {
      if (executor === undefined) {
        const reports = escalate !== undefined ? holdingFailureReports(work.publisher) : undefined
        held = reports?.held
        executor = createExecutor<ClaimHandle>({ ...rest, publisher: reports?.publisher ?? work.publisher, gitEnv: () => work.client.gitEnv() })
      }
      const a = work.announcement
      const title = a?.title ?? `Issue #${work.issue}`
      const out = await executor.run({
        repo: work.repo,
        issue: work.issue,
        title,
        body: a?.input ?? title,
        ...(a?.model !== undefined && a.model !== 'default' ? { model: a.model } : {}),
        ...(work.wip !== undefined
          ? { wipFrom: { owner: work.wip.fork.split('/')[0]!, repo: work.wip.fork.split('/')[1]!, branch: work.wip.branch } }
          : {})
      }, work.claim, {
        signal: work.signal,
        onEvent: (event) => {
          const p = progressOf(event)
          if (p !== undefined) work.progress(p)
          if (event.type === 'wip') work.wipPushed(event.branch)
          // The agent process has ended: collecting and publishing its result holds no slot.
          if (event.type === 'state' && event.state === 'collecting') work.agentEnded()
        }
      })
      if (escalate !== undefined && out.type === 'failure' && held?.has(work.claim) === true) {
        return { kind: 'help', capability: escalate, reason: `the ${init.agent.name} agent failed (${out.reason}): ask for ${escalate}` }
      }
      return toTaskOutcome(out)
    },
    close: async () => { await executor?.close() }
  }
}
