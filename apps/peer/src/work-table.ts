// The node's claimed tasks and what each holds, as an explicit state machine: named phases and
// pure transitions.
//
//   (none) ─started→ running ─agent-ended→ publishing ─ended→ (none)
//                       └──────────────ended──────────────┘
//
// A slot counts agent work. `running` (claiming, preparing, the agent at work) holds a slot;
// `publishing` (the agent has ended: commit, push, the pull request or report, which waits for the
// claim's fence, up to about a minute with production settings) holds the claim but no slot, so
// the node takes other work meanwhile, up to HELD_PER_SLOT × slots tasks held. Every key in the table, in either phase, is this node's:
// it is not claimed again here, its claim is renewed and watched, it is listed in the presence's
// `active_tasks`, and a drain waits for it.

export type WorkPhase = 'running' | 'publishing'

export type WorkTable = ReadonlyMap<string, WorkPhase>

export type WorkEvent =
  | { type: 'started', key: string }
  /** The agent has ended (the executor collects and publishes its result now). Repeats are no-ops. */
  | { type: 'agent-ended', key: string }
  | { type: 'ended', key: string }

export class WorkTransitionError extends Error {
  readonly code = 'ERR_WORK_TRANSITION'
  readonly key: string
  readonly phase: WorkPhase | undefined
  readonly event: WorkEvent['type']
  constructor (key: string, phase: WorkPhase | undefined, event: WorkEvent['type']) {
    super(`no transition for ${key} from ${phase ?? 'none'} on ${event}`)
    this.name = 'WorkTransitionError'
    this.key = key
    this.phase = phase
    this.event = event
  }
}

export const EMPTY_WORK: WorkTable = new Map()

/** The pure transition function. Throws `WorkTransitionError` for an event the key's phase does not take. */
export function workStep (table: WorkTable, event: WorkEvent): WorkTable {
  const phase = table.get(event.key)
  const next = new Map(table)
  switch (event.type) {
    case 'started':
      if (phase !== undefined) throw new WorkTransitionError(event.key, phase, event.type)
      next.set(event.key, 'running')
      return next
    case 'agent-ended':
      if (phase === undefined) throw new WorkTransitionError(event.key, phase, event.type)
      if (phase === 'publishing') return table
      next.set(event.key, 'publishing')
      return next
    case 'ended':
      if (phase === undefined) throw new WorkTransitionError(event.key, phase, event.type)
      next.delete(event.key)
      return next
  }
}

/** Slots in use: the tasks whose agent has not ended. */
export function slotsInUse (table: WorkTable): number {
  let n = 0
  for (const phase of table.values()) if (phase === 'running') n++
  return n
}

/**
 * A node holds at most this many tasks per slot, running and publishing together: results waiting
 * for their claim's fence are a backlog, and a node that claims faster than it publishes stops
 * claiming rather than hold an ever longer queue of claims (each one renewed and watched on
 * GitHub, so the backlog's requests would slow every fence further).
 */
export const HELD_PER_SLOT = 2

/** Free slots of a node with `slots` slots: slots less agents at work, none while it holds `HELD_PER_SLOT × slots` tasks. */
export function freeSlots (table: WorkTable, slots: number): number {
  return Math.max(0, Math.min(slots - slotsInUse(table), HELD_PER_SLOT * slots - table.size))
}

/** The keys in a phase, in the order they were started. */
export function keysIn (table: WorkTable, phase: WorkPhase): string[] {
  return [...table].filter(([, p]) => p === phase).map(([key]) => key)
}
