// The scheduler's view of the mesh, built from the ledger's peer views: the claim loop plans with
// it and the hand-off names the peer that ranks first with it. One builder, so that the watcher's
// guess and the claimer's plan read the same view the same way.
import type { Requirements } from '@bzzz/protocol'
import { satisfiesRequirements, type PeerView } from '@bzzz/state'
import type { SchedulePeer, ScheduleTask } from './scheduler.js'

export interface ScheduleView {
  peers: SchedulePeer[]
  /** A task as the scheduler takes it: eligible are the peers whose capabilities meet `requirements`. */
  task: (key: string, offeredAt: number, requirements: Requirements | undefined) => ScheduleTask
}

export function scheduleView (views: readonly PeerView[]): ScheduleView {
  const caps = new Map(views.map((p) => [p.nodeId, p.capabilities]))
  return {
    peers: views.map((p) => ({ nodeId: p.nodeId, alive: p.liveness === 'alive', hasFreeSlot: p.hasFreeSlot, activeTasks: p.activeTasks })),
    task: (key, offeredAt, requirements) => ({
      key,
      offeredAt,
      ...(requirements !== undefined ? { eligible: (id: string) => { const c = caps.get(id); return c !== undefined && satisfiesRequirements(c, requirements) } } : {})
    })
  }
}
