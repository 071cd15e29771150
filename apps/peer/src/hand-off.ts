// The hand-off of a new task. The watcher that announces a task gives it first, straight
// (`Mesh.send`), to the peer it expects to claim it (`expectedClaimer`), and tells the mesh once
// that peer's claim comment is posted, or after a bound. The claim leaves before the mesh-wide
// delivery begins (100 peers in one process: that delivery held every claim request behind it),
// and the standbys hear of the task with its claim already on the issue. Correctness does not
// rest on it: a peer claims only what its own plan says, and the claim on GitHub decides.
import type { Mesh } from '@bzzz/mesh'
import type { CapabilitiesMessage, TaskBroadcastMessage } from '@bzzz/protocol'
import type { Ledger } from '@bzzz/state'
import { rendezvousOrder } from './rank-order.js'
import { scheduleView } from './schedule-view.js'
import { expectedClaimer } from './scheduler.js'

/** The claims of this node not posted yet, by task key. */
export interface ClaimPostings {
  /** A claim of `key` starts here; call the returned function once its comment is posted, or the claim ended. */
  begin: (key: string) => () => void
  /** Whether a claim of `key` started here and is not posted yet. */
  pending: (key: string) => boolean
  /** Resolves once the pending claim of `key` is posted or ended, or after `ms`; at once when none is pending. */
  wait: (key: string, ms: number) => Promise<void>
}

/** Resolves when `promise` settles or after `ms`, whichever comes first. */
async function within (promise: Promise<unknown>, ms: number): Promise<void> {
  if (ms <= 0) return
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([promise.then(() => {}, () => {}), new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

export function createClaimPostings (): ClaimPostings {
  const pending = new Map<string, { done: Promise<void>, resolve: () => void }>()
  return {
    begin: (key) => {
      let resolve!: () => void
      const done = new Promise<void>((r) => { resolve = r })
      const entry = { done, resolve }
      pending.set(key, entry)
      return () => {
        if (pending.get(key) === entry) pending.delete(key)
        entry.resolve()
      }
    },
    pending: (key) => pending.has(key),
    wait: async (key, ms) => {
      const entry = pending.get(key)
      if (entry !== undefined) await within(entry.done, ms)
    }
  }
}

/** What the hand-off needs of its node. */
export interface HandOffInit {
  nodeId: string
  ledger: Pick<Ledger, 'peers'>
  mesh: Pick<Mesh, 'send' | 'addAddresses' | 'isStarted' | 'dial' | 'getPeers'>
  postings: ClaimPostings
  now: () => number
  /** This node's free slots for a claim now (0 while it cannot claim). */
  freeSlots: () => number
  /** Runs the claim plan now (a plan held back by the claim loop's pace would start the claim late). */
  planNow: () => void
  /** The longest an announcement waits for the claim; 0 turns the hand-off off. */
  handOffMs: number
  log: { debug: (obj: object, msg: string) => void }
}

export interface HandOff {
  /**
   * Before a new task of this node's goes to the mesh: waits (at most `handOffMs`) for this
   * node's own claim of it when it ranks first, or hands it to the peer that does and waits for
   * that peer's answer (it answers once its claim is posted).
   */
  announce: (message: TaskBroadcastMessage) => Promise<void>
  /** A task handed to this node: resolves once its claim here is posted (at most `handOffMs`). */
  received: (message: TaskBroadcastMessage) => Promise<void>
  /** Remembers the addresses a peer announced in its capabilities (so a task can be handed to it). */
  learn: (message: CapabilitiesMessage) => void
  /**
   * While this node watches: connects, one at a time, to each live peer it knows the addresses
   * of and has no connection to, so that a hand-off finds its connection open (a dial costs
   * round trips that the claim would wait for). A peer that could not be dialled waits a minute.
   */
  connectAhead: () => void
}

const keyOf = (message: TaskBroadcastMessage): string => `${message.repo ?? ''}${message.task_id}`
const isOpen = (message: TaskBroadcastMessage): boolean => message.repo !== undefined && (message.action ?? 'open') === 'open'

export function createHandOff (init: HandOffInit): HandOff {
  const { nodeId, postings, handOffMs } = init
  /** The addresses each peer announced last (joined), as given to the mesh. */
  const known = new Map<string, string>()
  const failedAt = new Map<string, number>()
  let ahead: Promise<void> | undefined
  /** Hand-offs under way (each leaves once settled): announcements wait for them. */
  const inflight = new Set<Promise<void>>()

  /** This node's own claim of `key`: started now if the plan says so, then waited for until `until`. */
  const ownClaim = async (key: string, until: number): Promise<void> => {
    if (!postings.pending(key)) init.planNow()
    await postings.wait(key, until - init.now())
  }

  /** Waits for this node's own claim, or hands the task to the peer that ranks first and waits for its answer. */
  const handOver = async (message: TaskBroadcastMessage, until: number): Promise<void> => {
    const key = keyOf(message)
    if (postings.pending(key)) { await postings.wait(key, until - init.now()); return }
    const t = init.now()
    const view = scheduleView(init.ledger.peers(t))
    const to = expectedClaimer({
      self: nodeId,
      freeSlots: init.freeSlots(),
      task: view.task(key, t, message.requirements),
      peers: view.peers,
      order: rendezvousOrder
    })
    if (to === undefined) return
    if (to === nodeId) { await ownClaim(key, until); return }
    try {
      await init.mesh.send(to, 'task_broadcast', message, { signal: AbortSignal.timeout(Math.max(1, until - init.now())) })
    } catch (err) {
      // Unreachable, refused or slow: the mesh hears of the task now, and plans as usual.
      init.log.debug({ task: key, to, err: (err as Error).message }, 'task hand-off failed')
    }
  }

  const connect = async (): Promise<void> => {
    const connected = new Set(init.mesh.getPeers().map(String))
    for (const p of init.ledger.peers(init.now())) {
      if (!init.mesh.isStarted()) return
      if (p.nodeId === nodeId || connected.has(p.nodeId) || p.liveness !== 'alive' || !known.has(p.nodeId)) continue
      if (init.now() - (failedAt.get(p.nodeId) ?? Number.NEGATIVE_INFINITY) < 60_000) continue
      try {
        await init.mesh.dial(p.nodeId, { signal: AbortSignal.timeout(5000) })
        failedAt.delete(p.nodeId)
      } catch (err) {
        failedAt.set(p.nodeId, init.now())
        init.log.debug({ peer: p.nodeId, err: (err as Error).message }, 'could not connect ahead of a hand-off')
      }
    }
  }

  return {
    announce: async (message) => {
      if (handOffMs <= 0 || !isOpen(message) || !init.mesh.isStarted()) return
      const until = init.now() + handOffMs
      const own = handOver(message, until).catch((err: Error) => { init.log.debug({ task: keyOf(message), err: err.message }, 'task hand-off failed') })
      inflight.add(own)
      void own.finally(() => { inflight.delete(own) })
      // A poll announces its tasks together: none goes to the mesh while a hand-off is under way
      // (in one process, a mesh-wide delivery would hold the other claims back), and none waits
      // past its own bound.
      while (inflight.size > 0 && init.now() < until) await within(Promise.all([...inflight]), until - init.now())
    },
    received: async (message) => {
      if (handOffMs <= 0 || !isOpen(message)) return
      await ownClaim(keyOf(message), init.now() + handOffMs)
    },
    connectAhead: () => {
      if (handOffMs <= 0 || ahead !== undefined || !init.mesh.isStarted()) return
      ahead = connect()
        .catch((err: Error) => { init.log.debug({ err: err.message }, 'connecting ahead failed') })
        .finally(() => { ahead = undefined })
    },
    learn: (message) => {
      const addrs = message.addrs
      if (addrs === undefined || message.node_id === nodeId || !init.mesh.isStarted()) return
      const joined = addrs.join(' ')
      if (known.get(message.node_id) === joined) return
      known.set(message.node_id, joined)
      init.mesh.addAddresses(message.node_id, addrs).catch((err: Error) => {
        known.delete(message.node_id)
        init.log.debug({ peer: message.node_id, err: err.message }, 'peer addresses not kept')
      })
    }
  }
}
