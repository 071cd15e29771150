// Help and delegation. A node whose agent cannot finish asks the mesh (`task_help_request`);
// nodes that offer the requested capability and have a free slot answer (`task_help_response`);
// the asker accepts the best offer (the ledger ranks them the same way on every peer) by
// publishing its request again with `accepted_node`, then releases its claim in the helper's
// favour. The helper claims the task and continues from the asker's WIP branch.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ClaimHandle } from '@bzzz/github'
import { formatTimestamp, type Topic, type TopicMessageMap } from '@bzzz/protocol'
import type { Ledger } from '@bzzz/state'
import type { NodeEvents } from './events.js'

export interface HelpDeskInit {
  nodeId: string
  ledger: Ledger
  now: () => number
  publish: <T extends Topic>(topic: T, message: TopicMessageMap[T]) => Promise<void>
  emit: <K extends keyof NodeEvents>(event: K, ...args: NodeEvents[K]) => void
  /** The capabilities this node offers to others (agent CLIs, models). */
  offers: () => readonly string[]
  hasFreeSlot: () => boolean
  pollMs: number
  /** The ETA this node announces in its offers, seconds. Default 60. */
  etaSeconds?: number
}

export interface HelpDesk {
  /** Asks for help and waits: the accepted helper's node id, or undefined when nobody could help in time. */
  ask: (req: { key: string, repo: string, issue: number, capability: string, reason: string, claim: ClaimHandle, signal: AbortSignal }) => Promise<string | undefined>
  /** The helper a task was delegated to (while that helper is alive), if any. */
  acceptedHelper: (key: string) => string | undefined
  start: () => void
  stop: () => void
}

export function createHelpDesk (init: HelpDeskInit): HelpDesk {
  const answered = new Set<string>()
  let timer: ReturnType<typeof setInterval> | undefined

  const answer = async (): Promise<void> => {
    const offers = init.offers()
    if (offers.length === 0) return
    const t = init.now()
    for (const task of init.ledger.openTasks(t)) {
      if (task.helpRequests.length === 0 || task.repo === undefined) continue
      for (const view of init.ledger.help(task.key, t)) {
        if (view.requester === init.nodeId || view.status !== 'waiting' || answered.has(view.requestId)) continue
        const wanted = view.request.requested_capability
        if (wanted !== '' && !offers.includes(wanted)) continue
        if (!init.hasFreeSlot()) continue
        answered.add(view.requestId)
        await init.publish('task_help_response', {
          type: 'task_help_response',
          v: 1,
          task_id: task.taskId,
          repo: task.repo,
          from_node: init.nodeId,
          to_node: view.requester,
          request_id: view.requestId,
          can_help: true,
          capabilities: [...offers],
          eta_seconds: init.etaSeconds ?? 60,
          timestamp: formatTimestamp(init.now())
        })
        init.emit('task:help', { key: task.key, role: 'offered', node: init.nodeId, capability: wanted })
      }
    }
  }

  return {
    ask: async ({ key, repo, issue, capability, reason, claim, signal }) => {
      const requestId = `${init.nodeId.slice(-8)}-${issue}-${claim.attempt}-${randomBytes(4).toString('hex')}`
      const base = {
        type: 'task_help_request' as const,
        v: 1,
        task_id: `#${issue}`,
        repo,
        from_node: init.nodeId,
        reason: reason.slice(0, 1024),
        requested_capability: capability,
        request_id: requestId
      }
      await init.publish('task_help_request', { ...base, timestamp: formatTimestamp(init.now()) })
      init.emit('task:help', { key, role: 'asked', node: init.nodeId, capability })
      for (;;) {
        signal.throwIfAborted()
        const view = init.ledger.help(key, init.now()).find((v) => v.requestId === requestId)
        if (view?.status === 'accepted') return view.acceptedNode
        if (view?.status === 'timed_out') return undefined
        if (view?.status === 'matched') {
          const helper = view.offers[0]!.node
          await init.publish('task_help_request', { ...base, accepted_node: helper, timestamp: formatTimestamp(init.now()) })
          init.emit('task:help', { key, role: 'accepted', node: helper, capability })
          return helper
        }
        await sleep(init.pollMs, undefined, { signal })
      }
    },
    acceptedHelper: (key) => {
      const t = init.now()
      const accepted = init.ledger.help(key, t).filter((v) => v.status === 'accepted' && v.acceptedNode !== undefined)
      const latest = accepted.at(-1)
      if (latest?.acceptedNode === undefined) return undefined
      if (latest.acceptedNode !== init.nodeId && init.ledger.peer(latest.acceptedNode, t)?.liveness === 'dead') return undefined
      return latest.acceptedNode
    },
    start: () => {
      timer ??= setInterval(() => { answer().catch(() => {}) }, init.pollMs)
    },
    stop: () => {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
    }
  }
}
