// The node's claim loop: reads the ledger, asks the pure scheduler (scheduler.ts) which tasks to
// claim now, and starts them. It runs when the view changes (`poke`: a task message, a peer's
// presence, a slot freed), when a standby's turn comes, and on the node's tick. At most `burst`
// asked-for plans run within any `minGapMs`: a poke past that waits for the window to move on;
// one within it plans at once. A watcher announces the issues of one poll together, and each
// of them is planned as it arrives (with one plan per gap, every announcement after the first
// waited for a timer, and a timer turn waits for every peer in the process to have the
// message). The tick's idle plans do not count.
import type { Message } from '@bzzz/protocol'
import type { Ledger, TaskView } from '@bzzz/state'
import { rendezvousOrder } from './rank-order.js'
import { scheduleView } from './schedule-view.js'
import { planClaims, type FirstSeen } from './scheduler.js'

/**
 * Whether a task message may make a task claimable, so that a plan should run at once: an
 * announcement (or its update), a release (a lost claim is one too), help. A claim, progress or
 * a result makes no task claimable.
 */
export function mayMakeClaimable (message: Message): boolean {
  if (message.type === 'task_result') return false
  return message.type !== 'task_claim' || message.state === 'released'
}

export interface ClaimLoopInit {
  nodeId: string
  ledger: Ledger
  now: () => number
  standbyStepMs: number
  /** At most `burst` plans that pokes ask for run within this many ms; a poke past that is folded into the next one. */
  minGapMs: number
  /** Default 4. */
  burst?: number
  /** Without a poke, the tick plans this often (ms). */
  idleEveryMs: number
  /** Free slots now (0 while draining, warming up or without an executor). */
  freeSlots: () => number
  /** Whether a task is skipped for now (being worked on here, or backing off). */
  skipped: (key: string, now: number) => boolean
  /** The helper a task was delegated to, if any. */
  delegatedTo: (key: string) => string | undefined
  /** Starts work on a task (the claim comes first). */
  start: (task: TaskView, breaks: number | undefined, delegated: boolean) => void
}

export interface ClaimLoop {
  /** Something changed: plan soon. */
  poke: () => void
  /** Plans now. */
  run: () => void
  /** The node's tick: plans if poked meanwhile, else at most every `idleEveryMs` (time alone changes the view: leases end, peers die). */
  tick: () => void
  stop: () => void
}

export function createClaimLoop (init: ClaimLoopInit): ClaimLoop {
  const burst = Math.max(1, init.burst ?? 4)
  let firstSeen: FirstSeen = new Map()
  let lastRun = Number.NEGATIVE_INFINITY
  // When the last `burst` plans that a poke or a caller asked for ran, oldest first.
  const asked: number[] = []
  let soon: ReturnType<typeof setTimeout> | undefined
  // A poke due now plans after the current message's microtasks, not a timer turn later (on a
  // busy event loop a turn can take longer than the whole decision).
  let queued = false
  let standby: { at: number, timer: ReturnType<typeof setTimeout> } | undefined
  let stopped = false

  const run = (): void => {
    asked.push(init.now())
    if (asked.length > burst) asked.shift()
    plan()
  }
  const plan = (): void => {
    if (stopped) return
    queued = false
    if (soon !== undefined) { clearTimeout(soon); soon = undefined }
    const t = init.now()
    lastRun = t
    let free = init.freeSlots()
    if (free <= 0) return
    const tasks: TaskView[] = []
    // Only claimable tasks: in a busy mesh most open tasks are held, and each plan (on every
    // task message and every idle second, on every peer) would view each of them.
    for (const task of init.ledger.claimableTasks(t)) {
      if (task.repo === undefined || init.skipped(task.key, t)) continue
      const helper = init.delegatedTo(task.key)
      if (helper === init.nodeId) {
        // Delegated to this node: it takes the task over as soon as the asker released it.
        if (free > 0) { init.start(task, undefined, true); free-- }
        continue
      }
      if (helper !== undefined) continue
      tasks.push(task)
    }
    if (free <= 0 || tasks.length === 0) { firstSeen = new Map(); return }
    const view = scheduleView(init.ledger.peers(t))
    const plan = planClaims({
      self: init.nodeId,
      now: t,
      freeSlots: free,
      standbyStepMs: init.standbyStepMs,
      tasks: tasks.map((task) => view.task(task.key, task.offeredAt ?? t, task.announcement?.requirements)),
      peers: view.peers,
      order: rendezvousOrder,
      firstSeen
    })
    firstSeen = plan.firstSeen
    const byKey = new Map(tasks.map((task) => [task.key, task]))
    for (const key of plan.claim) {
      const task = byKey.get(key)!
      // The mesh holds the holder dead while its lease runs: break its claim rather than wait out the lease.
      init.start(task, task.expiredBecause === 'holder-dead' ? task.holder?.claimId : undefined, false)
    }
    if (plan.nextAt !== undefined && (standby === undefined || plan.nextAt < standby.at)) {
      if (standby !== undefined) clearTimeout(standby.timer)
      const at = plan.nextAt
      standby = { at, timer: setTimeout(() => { standby = undefined; run() }, Math.max(0, at - t)) }
    }
  }

  return {
    poke: () => {
      if (stopped || soon !== undefined || queued) return
      const wait = asked.length < burst ? 0 : asked[0]! + init.minGapMs - init.now()
      if (wait > 0) { soon = setTimeout(() => { soon = undefined; run() }, wait); return }
      queued = true
      queueMicrotask(() => { if (queued) run() })
    },
    run,
    tick: () => {
      if (soon === undefined && !queued && init.now() - lastRun >= init.idleEveryMs) plan()
    },
    stop: () => {
      stopped = true
      if (soon !== undefined) clearTimeout(soon)
      if (standby !== undefined) clearTimeout(standby.timer)
    }
  }
}
