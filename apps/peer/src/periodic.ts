// The node's periodic work. An announcement every peer sends on the same period (presence,
// capabilities) starts at a random phase: a fleet started together (a deploy, a reboot, the
// simulation's 100 peers in one process) would otherwise send in step, and every peer would check
// every other's message in the same second (at 100 peers, 9,900 signature checks at once, once a
// period: the event loop stalled for seconds). The gaps never exceed the period.

export interface PeriodicInit {
  /** The period (ms). */
  everyMs: number
  /** First run after a random share of the period instead of a whole one. */
  spread?: boolean
  /** In [0, 1). Default `Math.random`. */
  random?: () => number
}

/** Runs `fn` every `everyMs` until the returned function is called. */
export function periodic (init: PeriodicInit, fn: () => void): () => void {
  const { everyMs } = init
  if (init.spread !== true) {
    const interval = setInterval(fn, everyMs)
    return () => { clearInterval(interval) }
  }
  let interval: ReturnType<typeof setInterval> | undefined
  const first = setTimeout(() => {
    interval = setInterval(fn, everyMs)
    fn()
  }, Math.floor((init.random ?? Math.random)() * everyMs))
  return () => {
    clearTimeout(first)
    clearInterval(interval)
  }
}
