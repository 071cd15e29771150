// The typed events of a node: what the daemon logs, what the HTTP interface streams (SSE), and
// what an embedding service (apps/sim, a dashboard) follows.
import type { ResultType } from '@bzzz/protocol'
import type { LifecyclePhase } from './lifecycle.js'

/** One step of an agent's progress, as the executor reports it. */
export interface ProgressEvent {
  kind: 'message' | 'tool_call' | 'file_change' | 'usage' | 'git' | 'error'
  text: string
}

export interface NodeEvents {
  /** A peer was heard from for the first time (or again after it had left). */
  'peer:seen': [{ nodeId: string }]
  /** A task was announced (first seen on the mesh, or broadcast by this node's watcher). */
  'task:announced': [{ key: string, repo: string, issue: number, title: string | undefined, by: string | undefined }]
  /** A peer holds a task (its `task_claim` was seen, or this node just won the claim). */
  'task:claimed': [{ key: string, node: string, attempt: number, claimId: number | undefined, self: boolean }]
  /** The holder started its agent. */
  'task:running': [{ key: string, node: string, attempt: number, self: boolean }]
  /** This node's agent made progress on a task. */
  'task:progress': [{ key: string, attempt: number, event: ProgressEvent }]
  /** A task has its result (pull request, issue or failure report). */
  'task:result': [{ key: string, node: string, type: ResultType, url: string, attempt: number, self: boolean }]
  /** A task was claimed again after an earlier attempt (a crash, a release, a delegation). */
  'task:takeover': [{ key: string, node: string, attempt: number, from: string | undefined, self: boolean }]
  /** This node released a task without a result (drain, delegation, a lost claim). */
  'task:released': [{ key: string, attempt: number, reason: string }]
  /** Help was asked for, offered or accepted (this node's part). */
  'task:help': [{ key: string, role: 'asked' | 'offered' | 'accepted' | 'taken', node: string, capability: string }]
  /** A task-scoped note between peers (`meta_discussion`). */
  'task:note': [{ key: string, node: string, body: string }]
  /** The node's lifecycle moved (starting, running, draining, stopping, stopped). */
  state: [{ phase: LifecyclePhase }]
  /** Something went wrong that the node survives; `where` names the component. */
  fault: [{ where: string, error: Error, key?: string }]
}

export type NodeEventName = keyof NodeEvents
export const NODE_EVENT_NAMES: readonly NodeEventName[] = Object.freeze([
  'peer:seen', 'task:announced', 'task:claimed', 'task:running', 'task:progress', 'task:result',
  'task:takeover', 'task:released', 'task:help', 'task:note', 'state', 'fault'
])
