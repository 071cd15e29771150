// The node's lifecycle as an explicit state machine: named phases and pure transitions.
//
//   created ─start→ starting ─started→ running ─drain→ draining ─(no work left)→ stopping ─stopped→ stopped
//                       │                  │               └─deadline→ stopping (abort work: push WIP, release)
//                       └─failed→ stopping └─stop→ draining (a stop is a drain with the deadline now)
//
// While draining, no new claim is made; work that is running goes on until it ends or the
// deadline passes, when it is aborted (its WIP is pushed and its claim released).

export type LifecyclePhase = 'created' | 'starting' | 'running' | 'draining' | 'stopping' | 'stopped'

export interface LifecycleState {
  phase: LifecyclePhase
  /** Tasks being worked on now (claimed and not yet finished). */
  active: number
  /** Whether running work has been told to stop (deadline reached). */
  aborting: boolean
}

export type LifecycleEvent =
  | { type: 'start' }
  | { type: 'started' }
  | { type: 'failed' }
  | { type: 'work-started' }
  | { type: 'work-ended' }
  | { type: 'drain' }
  | { type: 'deadline' }
  | { type: 'stopped' }

export type LifecycleAction =
  /** Tell peers this node is draining (status `draining`: no tasks are offered to it). */
  | 'announce-draining'
  /** Abort running work: each pushes its WIP and releases its claim. */
  | 'abort-work'
  /** Stop the components (watchers, timers, mesh, store). */
  | 'stop-components'

export class LifecycleTransitionError extends Error {
  readonly code = 'ERR_LIFECYCLE_TRANSITION'
  readonly phase: LifecyclePhase
  readonly event: LifecycleEvent['type']
  constructor (phase: LifecyclePhase, event: LifecycleEvent['type']) {
    super(`no transition from ${phase} on ${event}`)
    this.name = 'LifecycleTransitionError'
    this.phase = phase
    this.event = event
  }
}

export const INITIAL_LIFECYCLE: LifecycleState = Object.freeze({ phase: 'created', active: 0, aborting: false })

/** Whether a node in this state may make a new claim. */
export function canClaim (state: LifecycleState): boolean {
  return state.phase === 'running'
}

/** Whether the node is on its way out (or out). */
export function isStopping (state: LifecycleState): boolean {
  return state.phase === 'draining' || state.phase === 'stopping' || state.phase === 'stopped'
}

function settle (state: LifecycleState, actions: LifecycleAction[]): { state: LifecycleState, actions: LifecycleAction[] } {
  if (state.phase === 'draining' && state.active === 0) {
    return { state: { ...state, phase: 'stopping' }, actions: [...actions, 'stop-components'] }
  }
  return { state, actions }
}

/** The pure transition function. Throws `LifecycleTransitionError` for an event the phase does not take. */
export function lifecycleStep (state: LifecycleState, event: LifecycleEvent): { state: LifecycleState, actions: LifecycleAction[] } {
  const fail = (): never => { throw new LifecycleTransitionError(state.phase, event.type) }
  switch (event.type) {
    case 'start':
      return state.phase === 'created' ? { state: { ...state, phase: 'starting' }, actions: [] } : fail()
    case 'started':
      return state.phase === 'starting' ? { state: { ...state, phase: 'running' }, actions: [] } : fail()
    case 'failed':
      // What had started is stopped again; `stopped` follows once it is.
      return state.phase === 'starting' ? { state: { ...state, phase: 'stopping' }, actions: ['stop-components'] } : fail()
    case 'work-started':
      // Only a running node claims; a claim already under way when the drain began still counts.
      return state.phase === 'running' || state.phase === 'draining'
        ? { state: { ...state, active: state.active + 1 }, actions: state.aborting ? ['abort-work'] : [] }
        : fail()
    case 'work-ended':
      if (state.active === 0) return fail()
      return settle({ ...state, active: state.active - 1 }, [])
    case 'drain':
      if (state.phase === 'created') return { state: { ...state, phase: 'stopped' }, actions: [] }
      if (state.phase === 'starting') return fail()
      if (state.phase !== 'running') return { state, actions: [] } // a second drain changes nothing
      return settle({ ...state, phase: 'draining' }, ['announce-draining'])
    case 'deadline':
      if (state.phase !== 'draining' || state.aborting) return { state, actions: [] }
      return { state: { ...state, aborting: true }, actions: ['abort-work'] }
    case 'stopped':
      return state.phase === 'stopping' ? { state: { ...state, phase: 'stopped' }, actions: [] } : fail()
  }
}
