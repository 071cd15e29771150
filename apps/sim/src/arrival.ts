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

export interface ForkInit {
  /** The forge's base URL and the repository (`owner/name`) to fork. */
  url: string
  repo: string
  /** Each peer's token: each forks as itself. */
  tokens: readonly string[]
  /** Whether every fork is ready (its git objects copied). */
  ready: () => boolean | Promise<boolean>
  signal: AbortSignal
}

/**
 * Every peer's fork made before the run (a fleet that has worked on the repository before):
 * the forge copies forks of one repository one at a time, so a hundred peers forking in the
 * same minute wait in line, and the first task of each would wait with them.
 */
export async function forkAhead (init: ForkInit): Promise<void> {
  for (const token of init.tokens) {
    const res = await fetch(`${init.url}/repos/${init.repo}/forks`, {
      method: 'POST',
      headers: { authorization: `token ${token}`, accept: 'application/vnd.github+json' },
      signal: init.signal
    })
    await res.arrayBuffer()
    if (!res.ok) throw new Error(`forking ${init.repo} ahead failed: HTTP ${res.status}`)
  }
  while (!(await init.ready())) await sleep(100, undefined, { signal: init.signal })
}
