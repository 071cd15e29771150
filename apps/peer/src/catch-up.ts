// Catch-up for peers that join late: gossip does not replay history, so when a new peer appears
// this node sends again its capabilities and the task messages it wrote about tasks still open.
// Finished tasks are not sent again (a newcomer has nothing to do with them), and one replay
// serves every peer that appeared since the last one: at most one per `minGapMs`, so a mesh
// whose peers join together does not send its history once per peer (O(n²) messages).
import type { Message, Topic } from '@bzzz/protocol'

export interface CatchUpInit {
  /** Wait after the first new peer before replaying (more may join meanwhile). */
  delayMs: number
  /** At least this long between two replays. */
  minGapMs: number
  now: () => number
  /** Whether the task is still open (not done, failed or withdrawn): only then is it replayed. */
  isOpen: (key: string) => boolean
  replay: (messages: ReadonlyArray<{ topic: Topic, message: Message }>) => Promise<void>
  fault: (err: unknown) => void
}

export interface CatchUp {
  /** A message this node wrote (presence and capabilities are not kept). */
  authored: (topic: Topic, message: Message) => void
  /** A new peer appeared. */
  peerAppeared: () => void
  stop: () => void
}

function taskKeyOf (message: Message): string | undefined {
  if (!('task_id' in message)) return undefined
  return `${'repo' in message && typeof message.repo === 'string' ? message.repo : ''}${message.task_id}`
}

export function createCatchUp (init: CatchUpInit): CatchUp {
  const byTask = new Map<string, Array<{ topic: Topic, message: Message }>>()
  let timer: ReturnType<typeof setTimeout> | undefined
  let last = Number.NEGATIVE_INFINITY
  let stopped = false

  const run = async (): Promise<void> => {
    last = init.now()
    const out: Array<{ topic: Topic, message: Message }> = []
    for (const [key, messages] of byTask) {
      if (init.isOpen(key)) out.push(...messages)
      else byTask.delete(key)
    }
    await init.replay(out)
  }

  return {
    authored: (topic, message) => {
      if (topic === 'presence_ping' || topic === 'capabilities') return
      const key = taskKeyOf(message)
      if (key === undefined) return
      const list = byTask.get(key) ?? []
      list.push({ topic, message })
      if (list.length > 50) list.shift()
      byTask.set(key, list)
    },
    peerAppeared: () => {
      if (stopped || timer !== undefined) return
      const wait = Math.max(init.delayMs, last + init.minGapMs - init.now())
      timer = setTimeout(() => {
        timer = undefined
        if (!stopped) run().catch(init.fault)
      }, wait)
    },
    stop: () => {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
    }
  }
}
