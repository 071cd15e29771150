// Which tasks a peer claims now: pure, no clock, no I/O. The node calls `planClaims` whenever
// its view changes (a task message, a peer's presence, a slot freed) and on a timer.
//
// The rule, the same on every peer so that each task gets one claim comment:
// - The candidates for a task are the live peers that are claiming it already (its key is in
//   their presence's active tasks), then the live eligible peers with a free slot, each group in
//   rendezvous order. A peer with no free slot is no candidate: the mesh spreads the tasks over
//   the peers that can take them, and a peer that fills its slots drops out of the ranking.
// - The first candidate claims at once. A peer with k free slots claims at most k tasks, oldest
//   offer first.
// - A standby (rank r ≥ 1) claims only if the task is still unclaimed after r × step, counted
//   from when the current first candidate became first in this peer's view (a new first
//   candidate, e.g. after the old one filled its slots, gets a full step again).

/** A peer as the scheduler needs it. */
export interface SchedulePeer {
  nodeId: string
  /** Live in this peer's view (not suspect, not dead). */
  alive: boolean
  hasFreeSlot: boolean
  /** The tasks it works on or claims now (its presence's `active_tasks`). */
  activeTasks: readonly string[]
}

/** A claimable task (announced, or offered again), not skipped and not delegated elsewhere. */
export interface ScheduleTask {
  key: string
  /** When it became claimable (ms). */
  offeredAt: number
  /** Whether a peer meets the task's requirements. Default: every peer. */
  eligible?: (nodeId: string) => boolean
}

/** Per task: the first candidate in this peer's view, and since when. Kept between calls. */
export type FirstSeen = ReadonlyMap<string, { first: string, since: number }>

export interface ScheduleInput {
  self: string
  now: number
  freeSlots: number
  standbyStepMs: number
  tasks: readonly ScheduleTask[]
  /** Every known peer (self included or not: self always counts as live with `freeSlots`). */
  peers: readonly SchedulePeer[]
  /** The rendezvous order of `ids` for `key`, highest weight first (cache it: it is pure). */
  order: (key: string, ids: readonly string[]) => readonly string[]
  firstSeen: FirstSeen
}

export interface SchedulePlan {
  /** The keys to claim now, at most `freeSlots`: first-ranked ones, then due standbys. */
  claim: string[]
  /** The state for the next call (only tasks still waiting on someone else). */
  firstSeen: Map<string, { first: string, since: number }>
  /** The earliest time a standby claim may become due, for a timer; undefined if none waits. */
  nextAt: number | undefined
}

interface Ranked { key: string, offeredAt: number, rank: number, dueAt: number }

/** Decides which tasks `self` claims now. */
export function planClaims (input: ScheduleInput): SchedulePlan {
  const { self, now, freeSlots, standbyStepMs } = input
  const firstSeen = new Map<string, { first: string, since: number }>()
  if (freeSlots <= 0 || input.tasks.length === 0) return { claim: [], firstSeen, nextAt: undefined }

  const ids: string[] = [self]
  const free = new Set<string>([self])
  const claiming = new Map<string, string[]>()
  for (const p of input.peers) {
    if (p.nodeId === self) continue
    ids.push(p.nodeId)
    if (!p.alive) continue
    if (p.hasFreeSlot) free.add(p.nodeId)
    for (const key of p.activeTasks) claiming.set(key, [...(claiming.get(key) ?? []), p.nodeId])
  }

  const now0: Ranked[] = []
  const standby: Ranked[] = []
  let nextAt: number | undefined
  for (const task of input.tasks) {
    const eligible = task.eligible ?? (() => true)
    if (!eligible(self)) continue
    const order = input.order(task.key, ids)
    const others = claiming.get(task.key) ?? []
    let first: string | undefined
    let rank = 0
    if (others.length > 0) {
      // Someone claims it already: it is first (the earliest in order), everyone else waits.
      first = order.find((id) => others.includes(id))
      rank = others.length
      for (const id of order) {
        if (id === self) break
        if (free.has(id) && !others.includes(id) && eligible(id)) rank++
      }
    } else {
      for (const id of order) {
        if (id === self) break
        if (!free.has(id) || !eligible(id)) continue
        first ??= id
        rank++
      }
    }
    if (rank === 0) {
      now0.push({ key: task.key, offeredAt: task.offeredAt, rank, dueAt: task.offeredAt })
      continue
    }
    const prev = input.firstSeen.get(task.key)
    const since = prev !== undefined && prev.first === first ? prev.since : now
    firstSeen.set(task.key, { first: first!, since })
    const dueAt = Math.max(task.offeredAt, since) + rank * standbyStepMs
    if (now >= dueAt) standby.push({ key: task.key, offeredAt: task.offeredAt, rank, dueAt })
    else nextAt = nextAt === undefined ? dueAt : Math.min(nextAt, dueAt)
  }
  const byOffer = (a: Ranked, b: Ranked): number => a.offeredAt - b.offeredAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  const byRank = (a: Ranked, b: Ranked): number => a.rank - b.rank || byOffer(a, b)
  const claim = [...now0.sort(byOffer), ...standby.sort(byRank)].slice(0, freeSlots).map((r) => r.key)
  for (const key of claim) firstSeen.delete(key)
  return { claim, firstSeen, nextAt }
}

/**
 * The peer that claims `task` at once by the rule above, in `self`'s view of the mesh: the first
 * live peer claiming it already, else the first live eligible peer with a free slot (self with
 * `freeSlots`), in rendezvous order; undefined when there is none. A watcher hands a new task
 * straight to it (its `planClaims` in the same view claims the task at once).
 */
export function expectedClaimer (input: { self: string, freeSlots: number, task: ScheduleTask, peers: readonly SchedulePeer[], order: ScheduleInput['order'] }): string | undefined {
  const { self, task } = input
  const ids: string[] = [self]
  const free = new Set<string>(input.freeSlots > 0 ? [self] : [])
  const claiming = new Set<string>()
  for (const p of input.peers) {
    if (p.nodeId === self) continue
    ids.push(p.nodeId)
    if (!p.alive) continue
    if (p.hasFreeSlot) free.add(p.nodeId)
    if (p.activeTasks.includes(task.key)) claiming.add(p.nodeId)
  }
  const order = input.order(task.key, ids)
  if (claiming.size > 0) return order.find((id) => claiming.has(id))
  const eligible = task.eligible ?? (() => true)
  return order.find((id) => free.has(id) && eligible(id))
}
