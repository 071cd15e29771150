/**
 * What the simulation records: one flat, time-stamped list of events from the nodes, the
 * forge and the fault schedule. The metrics are a pure function of this list and of the
 * forge's final state (see metrics.ts). `t` is ms since the run started, on the sim's clock.
 */
export type SimEvent =
  | { t: number, kind: 'peer_up', peer: string }
  | { t: number, kind: 'peer_down', peer: string, how: 'killed' | 'stopped' }
  /** A task was announced on the mesh by the peer that watches its repository. */
  | { t: number, kind: 'task_seen', task: string, peer: string }
  /** The peer posted its claim comment on the issue. */
  | { t: number, kind: 'claim_posted', task: string, peer: string }
  | { t: number, kind: 'claim_won', task: string, peer: string, attempt: number }
  | { t: number, kind: 'claim_lost', task: string, peer: string }
  /** The holder started working on the task (the node's `task:running`: before the agent, long before the fenced publication). */
  | { t: number, kind: 'work_started', task: string, peer: string }
  | { t: number, kind: 'agent_started', task: string, peer: string }
  | { t: number, kind: 'agent_finished', task: string, peer: string, ok: boolean }
  /** The peer published the task's outcome (a pull request, follow-up issue or failure report). */
  | { t: number, kind: 'published', task: string, peer: string, outcome: 'done' | 'failed', url: string }
  | { t: number, kind: 'fault_start', fault: string, detail: string, peer?: string, task?: string }
  | { t: number, kind: 'fault_end', fault: string, detail: string }

export type SimEventKind = SimEvent['kind']

/** What the forge holds at the end, per task (`owner/repo#N`): the ground truth for publications. */
export interface ForgeFacts {
  /** Every eligible task the run seeded. */
  tasks: string[]
  /** Pull requests, follow-up issues and failure reports found on the forge, per task. */
  publications: Record<string, { pulls: number, issues: number, reports: number }>
  /** Issues no peer may take (unlabelled, untrusted author), with any claim or publication found on them. */
  ineligible?: Array<{ issue: number, touched: number }>
  /** Counted GitHub requests (every peer's client), in all and per task scope. */
  requests: { total: number, perTaskScope: Record<string, number>, idlePerRepoPerHour: number | undefined }
}

/** One peer's signed log, verified at the end. */
export interface LogCheck {
  peer: string
  ok: boolean
  entries: number
  error?: string
}
