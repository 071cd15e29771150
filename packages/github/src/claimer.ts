import { randomBytes } from 'node:crypto'
import { formatTimestamp, type TaskClaimMessage } from '@bzzz/protocol'
import {
  decide, formatClaimBody, holderValid, parseClaimMarker, renewalWasLate, standing,
  type Claim, type ClaimComment, type ClaimMarker
} from './claim.js'
import type { GitHubClient } from './client.js'
import { ClaimLostError, ConfigError, GitHubRequestError } from './errors.js'
import { checkNodeId, createOnce, nextPage, parseRepo, sleep, type RepoRef } from './util.js'

export interface StatusLabels {
  claimed: string
  done: string
  failed: string
}

export interface ClaimerInit {
  client: GitHubClient
  /** This peer's node id, written into its claim markers. */
  node: string
  /** Lease length. Default 20 minutes (a crashed holder's issue is free again after lease + grace). */
  leaseMs?: number
  /** Renew this often while `startRenewing` runs (each renewal is one counted request). Default half the lease; a failed renewal is retried sooner. */
  renewEveryMs?: number
  /** Wait between posting a claim and reading the comments; must be ≥ the server's list lag. Default 2000 ms. */
  settleMs?: number
  /** How long past its lease another node's claim still counts (list lag + timestamp rounding). Default settleMs + 2000 ms. */
  graceMs?: number
  /** The holder stops when less than this remains of its lease. Default min(30 s, lease/5). */
  marginMs?: number
  /** When given, only claim markers in comments by these logins count. */
  trustedClaimants?: readonly string[]
  /** Status labels for people (never relied on). Default `bzzz:claimed`, `bzzz:done`, `bzzz:failed`. */
  labels?: Partial<StatusLabels>
  /** Set labels and the assignee as status (best effort; peers with read access cannot). Default true. */
  setStatus?: boolean
}

export interface ClaimOptions {
  signal?: AbortSignal
  /** Attempt number to write into the marker (the winner corrects it on its first renewal). Default 1. */
  attempt?: number
}

export type ClaimOutcome =
  | { outcome: 'won', claim: ClaimHandle }
  | { outcome: 'lost', reason: 'held' | 'completed' | 'expired', winner: { id: number, node: string, author: string } | undefined, scope: string }

export interface ClaimHandle {
  readonly repo: string
  readonly issue: number
  readonly claimId: number
  readonly node: string
  readonly attempt: number
  /** The accounting scope of this task's requests: `task:owner/repo#N`. */
  readonly scope: string
  /** Aborted (with a `ClaimLostError`) as soon as the claim is known to be lost. */
  readonly signal: AbortSignal
  /** End of the lease in server time, as last confirmed. */
  leaseExpiresAt: () => number
  /** Extends the lease by editing the claim comment. Throws `ClaimLostError` if it was lost. */
  renew: (options?: { signal?: AbortSignal }) => Promise<void>
  /** Renews every `renewEveryMs` until completed, released or lost. */
  startRenewing: () => void
  stopRenewing: () => void
  /** Fencing: throws `ClaimLostError` unless this claim still holds with margin to spare. */
  fence: (options?: { signal?: AbortSignal }) => Promise<void>
  /** Marks the claim terminal (done or failed) so nobody claims the issue again, and sets status labels. */
  complete: (state: 'done' | 'failed', resultUrl?: string, options?: { signal?: AbortSignal }) => Promise<void>
  /** Gives the issue up: deletes the claim comment. */
  release: (options?: { signal?: AbortSignal }) => Promise<void>
  /** The `task_claim` message announcing this claim on the mesh. */
  toMessage: () => TaskClaimMessage
}

export interface Claimer {
  readonly node: string
  claim: (repo: string, issue: number, options?: ClaimOptions) => Promise<ClaimOutcome>
}

type CommentData = ClaimComment & { html_url?: string }

const COMMENT_ROUTE = 'GET /repos/{owner}/{repo}/issues/comments/{comment_id}' as const

export function createClaimer (init: ClaimerInit): Claimer {
  checkNodeId(init.node)
  const client = init.client
  const leaseMs = init.leaseMs ?? 1_200_000
  const settleMs = init.settleMs ?? 2000
  const graceMs = init.graceMs ?? settleMs + 2000
  const marginMs = init.marginMs ?? Math.min(30_000, Math.floor(leaseMs / 5))
  const renewEveryMs = init.renewEveryMs ?? Math.floor(leaseMs / 2)
  const labels: StatusLabels = { claimed: 'bzzz:claimed', done: 'bzzz:done', failed: 'bzzz:failed', ...init.labels }
  const setStatus = init.setStatus ?? true
  if (leaseMs <= marginMs + settleMs) throw new ConfigError('the lease must be longer than settleMs + marginMs')
  if (renewEveryMs >= leaseMs - marginMs) throw new ConfigError('renewEveryMs must leave margin before the lease ends')

  const listComments = async (ref: RepoRef, issue: number, scope: string, signal?: AbortSignal): Promise<{ comments: CommentData[], serverTime: number }> => {
    const comments: CommentData[] = []
    let page: number | undefined = 1
    let serverTime: number | undefined
    while (page !== undefined && page <= 50) {
      const res = await client.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...ref, issue_number: issue, per_page: 100, page }, { scope, signal })
      serverTime ??= res.serverTime
      comments.push(...(res.data as CommentData[]))
      page = nextPage(res.link)
    }
    return { comments, serverTime: serverTime ?? Date.now() }
  }

  const bestEffort = async (what: () => Promise<unknown>): Promise<void> => {
    try {
      await what()
    } catch (err) {
      if (!(err instanceof GitHubRequestError)) throw err
      client.log.debug(`status update skipped: ${err.message}`)
    }
  }
  // Repositories where status writes were refused (read-only peers): not tried again.
  const noStatus = new Set<string>()
  const statusWrite = async (repo: string, what: () => Promise<unknown>): Promise<void> => {
    if (!setStatus || noStatus.has(repo)) return
    await bestEffort(async () => {
      try {
        await what()
      } catch (err) {
        if (err instanceof GitHubRequestError && (err.status === 403 || err.status === 401) && err.code !== 'ERR_RATE_LIMITED') noStatus.add(repo)
        throw err
      }
    })
  }

  const claim = async (repo: string, issue: number, options: ClaimOptions = {}): Promise<ClaimOutcome> => {
    const ref = parseRepo(repo)
    const scope = `task:${repo}#${issue}`
    const signal = options.signal
    const nonce = randomBytes(12).toString('base64url')
    let attempt = options.attempt ?? 1
    const markerFor = (state: ClaimMarker['state'], serverNow: number, resultUrl?: string): ClaimMarker => ({
      v: 1, node: init.node, lease_ms: leaseMs, lease_expires: formatTimestamp(serverNow + leaseMs), attempt, state, nonce,
      ...(resultUrl !== undefined ? { result_url: resultUrl } : {})
    })

    // 1. Post the claim (at most once, even after an ambiguous failure). Local elapsed time is
    // measured from before the request, so that it overestimates the time since `updated_at`.
    const sentLocal = performance.now()
    const posted = await createOnce({
      signal,
      settleMs,
      create: async () => {
        const res = await client.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...ref, issue_number: issue, body: formatClaimBody(markerFor('claimed', Date.now())) }, { scope, signal })
        return { comment: res.data as CommentData, etag: res.etag }
      },
      find: async () => {
        const { comments } = await listComments(ref, issue, scope, signal)
        const c = comments.find((x) => parseClaimMarker(x.body)?.nonce === nonce)
        return c === undefined ? undefined : { comment: c, etag: undefined }
      }
    })
    let own: CommentData = posted.comment
    let ownEtag = posted.etag

    const withdraw = async (): Promise<void> => {
      await bestEffort(async () => {
        try {
          await client.request('DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}', { ...ref, comment_id: own.id }, { scope })
        } catch (err) {
          if (err instanceof GitHubRequestError && err.status === 404) return
          throw err
        }
      })
    }

    // 2. Let the list catch up with every comment posted before ours, then read it and decide.
    let decision
    let serverNow: number
    try {
      await sleep(settleMs, signal)
      const read = await listComments(ref, issue, scope, signal)
      serverNow = read.serverTime
      decision = decide({ comments: read.comments, own, serverNow, graceMs, trustedClaimants: init.trustedClaimants })
    } catch (err) {
      await withdraw()
      throw err
    }
    const st = standing(decision, own.id, serverNow + 1000, marginMs)
    if (st.status !== 'won') {
      await withdraw()
      const w = st.status === 'lost' ? st.winner : undefined
      return {
        outcome: 'lost',
        reason: st.status === 'lost' ? st.reason : 'expired',
        winner: w === undefined ? undefined : { id: w.id, node: w.marker.node, author: w.author },
        scope
      }
    }

    // 3. Won. The attempt counts the expired claims before ours; the next renewal writes it down.
    attempt = Math.max(attempt, decision.nextAttempt)
    const ownClaim = decision.claims.find((c) => c.id === own.id)!
    let updatedAt = ownClaim.updatedAt
    let terminal = false
    const controller = new AbortController()
    let timer: NodeJS.Timeout | undefined
    // Whether renewals should go on: a renewal in flight when stopRenewing() is called must not re-arm the timer.
    let renewing = false
    // Edits of the claim comment, one at a time and in call order: a renewal answered (or retried)
    // after complete()'s terminal edit would otherwise turn `done` back into `claimed`.
    let edits: Promise<unknown> = Promise.resolve()
    const serially = async <T>(what: () => Promise<T>): Promise<T> => {
      const next = edits.then(what, what)
      edits = next.catch(() => {})
      return await next
    }
    let confirmedLocal = sentLocal

    const lose = (reason: ClaimLostError['reason']): ClaimLostError => {
      const err = new ClaimLostError(repo, issue, own.id, reason)
      if (!controller.signal.aborted) controller.abort(err)
      stopRenewing()
      return err
    }
    const ensureHeld = (): void => {
      if (controller.signal.aborted) throw controller.signal.reason
    }
    // The lease by local elapsed time (an overestimate), before any edit: a lapsed lease is never extended.
    const checkLocally = (): void => {
      const estimate = updatedAt + (performance.now() - confirmedLocal) + 1000
      if (!holderValid({ updatedAt, marker: ownClaim.marker }, estimate, 0)) throw lose('expired')
    }
    const stopRenewing = (): void => {
      renewing = false
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
    }

    const edit = async (state: ClaimMarker['state'], resultUrl: string | undefined, opts: { signal?: AbortSignal }): Promise<void> => {
      let res
      const sent = performance.now()
      try {
        res = await client.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', {
          ...ref, comment_id: own.id, body: formatClaimBody(markerFor(state, updatedAt + performance.now() - confirmedLocal, resultUrl))
        }, { scope, signal: opts.signal })
      } catch (err) {
        if (err instanceof GitHubRequestError && err.status === 404) throw lose('deleted')
        throw err
      }
      const next = Date.parse((res.data as CommentData).updated_at)
      if (renewalWasLate(updatedAt, next, leaseMs)) {
        // Applied after our lease ran out: another node may hold the issue now. Never revive
        // (neither by a renewal nor by a terminal state, which would hold for ever).
        const err = lose('expired')
        await withdraw()
        throw err
      }
      own = res.data as CommentData
      ownEtag = res.etag
      updatedAt = next
      confirmedLocal = sent
    }

    const handle: ClaimHandle = {
      repo,
      issue,
      claimId: own.id,
      node: init.node,
      get attempt () { return attempt },
      scope,
      signal: controller.signal,
      leaseExpiresAt: () => updatedAt + leaseMs,
      async renew (opts = {}) {
        ensureHeld()
        await serially(async () => {
          // Checked again in turn: a terminal edit queued before this one ends the claim.
          ensureHeld()
          if (terminal) throw lose('completed')
          checkLocally()
          await edit('claimed', undefined, opts)
        })
      },
      startRenewing () {
        if (renewing || terminal || controller.signal.aborted) return
        renewing = true
        const tick = (delayMs: number): void => {
          if (!renewing) return
          timer = setTimeout(() => {
            timer = undefined
            handle.renew().then(() => { tick(renewEveryMs) }, (err: unknown) => {
              if (err instanceof ClaimLostError || !renewing) return
              // Retried soon; the lease check in renew() decides when it is too late.
              client.log.warn(`renewing claim ${own.id} on ${repo}#${issue} failed: ${(err as Error).message}`)
              tick(Math.max(100, Math.min(30_000, Math.floor(renewEveryMs / 4))))
            })
          }, delayMs)
          timer.unref?.()
        }
        tick(renewEveryMs)
      },
      stopRenewing,
      async fence (opts = {}) {
        ensureHeld()
        let res
        try {
          res = await client.request(COMMENT_ROUTE, { ...ref, comment_id: own.id }, { scope, signal: opts.signal, etag: ownEtag })
        } catch (err) {
          if (err instanceof GitHubRequestError && (err.status === 404 || err.status === 410)) throw lose('deleted')
          throw err
        }
        if (!res.notModified) {
          const c = res.data as CommentData
          const m = parseClaimMarker(c.body)
          if (m === undefined || m.nonce !== nonce || m.node !== init.node) throw lose('superseded')
          if (m.state !== 'claimed') throw lose('completed')
          own = c
          ownEtag = res.etag
          updatedAt = Math.max(updatedAt, Date.parse(c.updated_at))
        }
        const now = res.serverTime ?? updatedAt + (performance.now() - confirmedLocal)
        if (!holderValid({ updatedAt, marker: ownClaim.marker }, now + 1000, marginMs)) throw lose('expired')
      },
      async complete (state, resultUrl, opts = {}) {
        ensureHeld()
        stopRenewing()
        await serially(async () => {
          ensureHeld()
          if (terminal) throw lose('completed')
          checkLocally()
          await edit(state, resultUrl, opts)
          terminal = true
        })
        await statusWrite(repo, async () => await client.request('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', { ...ref, issue_number: issue, labels: [state === 'done' ? labels.done : labels.failed] }, { scope, signal: opts.signal, retry: true }))
        await statusWrite(repo, async () => await client.request('DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', { ...ref, issue_number: issue, name: labels.claimed }, { scope, signal: opts.signal }))
        lose('completed')
      },
      async release (opts = {}) {
        stopRenewing()
        if (!controller.signal.aborted) lose('withdrawn')
        await withdraw()
        await statusWrite(repo, async () => await client.request('DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', { ...ref, issue_number: issue, name: labels.claimed }, { scope, signal: opts.signal }))
      },
      toMessage () {
        return {
          type: 'task_claim',
          v: 1,
          task_id: `#${issue}`,
          node_id: init.node,
          timestamp: formatTimestamp(),
          repo,
          lease_expires: formatTimestamp(updatedAt + leaseMs),
          attempt,
          claim_id: own.id,
          state: controller.signal.aborted ? 'released' : 'claimed'
        }
      }
    }

    try {
      await statusWrite(repo, async () => await client.request('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', { ...ref, issue_number: issue, labels: [labels.claimed] }, { scope, signal, retry: true }))
      await statusWrite(repo, async () => {
        const login = await client.login({ signal })
        await client.request('POST /repos/{owner}/{repo}/issues/{issue_number}/assignees', { ...ref, issue_number: issue, assignees: [login] }, { scope, signal, retry: true })
      })
    } catch (err) {
      // Aborted (or failed otherwise) after winning: the caller gets no handle, so nobody would
      // renew or release this claim, and the issue would stay taken for a whole lease.
      await handle.release().catch(() => {})
      throw err
    }
    return { outcome: 'won', claim: handle }
  }

  return { node: init.node, claim }
}

export type { Claim }
