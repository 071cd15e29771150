import { setTimeout as delay } from 'node:timers/promises'
import { ConfigError, GitHubRequestError } from './errors.js'

export function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal === undefined ? undefined : { signal })
}

export interface RepoRef { owner: string, repo: string }

const REPO_RE = /^([A-Za-z0-9_.-]{1,100})\/([A-Za-z0-9_.-]{1,100})$/

/** Parses `owner/name`. */
export function parseRepo (full: string): RepoRef {
  const m = REPO_RE.exec(full)
  if (m === null) throw new ConfigError(`not a repository name: ${JSON.stringify(full.slice(0, 100))}`)
  return { owner: m[1]!, repo: m[2]! }
}

/** The `rel="next"` page number of a `Link` header. */
export function nextPage (link: string | undefined): number | undefined {
  if (link === undefined) return undefined
  for (const part of link.split(',')) {
    if (!/rel="next"/.test(part)) continue
    const m = /[?&]page=(\d+)/.exec(part)
    if (m !== null) return Number(m[1])
  }
  return undefined
}

/**
 * Creates something that has no natural idempotency key at most once: after an ambiguous
 * failure (a 5xx or no answer, when the write may have been applied) or a 422 the caller says
 * means "exists already", it waits `settleMs` (≥ the server's list lag), looks for the thing
 * by a unique marker, and only creates again if it is not there.
 */
export async function createOnce<T> (opts: {
  create: () => Promise<T>
  find: () => Promise<T | undefined>
  settleMs: number
  attempts?: number
  exists?: (err: GitHubRequestError) => boolean
  signal?: AbortSignal | undefined
  /** How to wait (tests inject a virtual clock). Default: real time. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}): Promise<T> {
  const attempts = opts.attempts ?? 3
  const wait = opts.sleep ?? sleep
  for (let i = 1; ; i++) {
    try {
      return await opts.create()
    } catch (err) {
      if (!(err instanceof GitHubRequestError)) throw err
      const exists = opts.exists?.(err) ?? false
      if (!err.ambiguous && !exists) throw err
      if (!exists) await wait(opts.settleMs, opts.signal)
      const found = await opts.find()
      if (found !== undefined) return found
      if (i >= attempts) throw err
      await wait(Math.min(500 * i * i, 5000), opts.signal)
    }
  }
}

export function truncate (text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 20))}\n… (truncated)`
}
