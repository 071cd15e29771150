// Work arriving at a formed mesh: the runner files the task issues unlabelled and a maintainer
// labels them here, at a steady rate. The labels go straight into the forge's state (as if
// through its API: the issue's update time moves, so the watcher sees it as any new work), not
// over HTTP: the maintainer's requests are not what the run measures, and GitHub's
// content-creation limit would throttle a maintainer labelling two issues a second.
import { setTimeout as sleep } from 'node:timers/promises'

export interface ArrivalInit {
  /** The issue numbers, in the order they arrive. */
  issues: readonly number[]
  perSecond: number
  /** Labels one issue; a throw stops the arrival. */
  label: (issue: number) => void | Promise<void>
  /** When the first issue is labelled (on `now`'s clock); default at once. */
  startAt?: number
  now: () => number
  signal: AbortSignal
}

/** The time (ms after the first) at which the n-th issue (0-based) arrives. */
export const arrivalAt = (n: number, perSecond: number): number => Math.round((n * 1000) / perSecond)

/** Labels every issue on schedule; resolves when all are labelled, rejects when a label fails or on abort. */
export async function labelAtRate (init: ArrivalInit): Promise<void> {
  const t0 = init.startAt ?? init.now()
  for (const [n, issue] of init.issues.entries()) {
    const wait = t0 + arrivalAt(n, init.perSecond) - init.now()
    if (wait > 0) await sleep(wait, undefined, { signal: init.signal })
    init.signal.throwIfAborted()
    await init.label(issue)
  }
}
