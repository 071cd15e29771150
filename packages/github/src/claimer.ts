/**
 * The claim handle's I/O: it sends the requests, reads the clocks and feeds the answers to the
 * state machine in claim-machine.ts, which alone decides. The rules are in claim.ts, the
 * argument in docs/github.md.
 */
import { randomBytes } from 'node:crypto'
import { formatTimestamp, type TaskClaimMessage } from '@bzzz/protocol'
import { formatClaimBody, parseClaimMarker, type Claim, type ClaimMarker } from './claim.js'
import {
  chainBounds, chainWait, editFor, initialState, isFinal, localServerEstimate, markerFor, orphansIn, publishWait, step, stillHeld,
  type HandleEvent, type HandleState, type LostReason, type MachineConfig
} from './claim-machine.js'
import type { GitHubClient } from './client.js'
import { ClaimLostError, ConfigError, FenceUnconfirmedError, GitHubRequestError, ListingError } from './errors.js'
import { listIssueComments, type CommentData, type CommentsRead } from './listing.js'
import { resultInComments, type FoundResult } from './result.js'
import { checkNodeId, parseRepo, sleep, type RepoRef } from './util.js'

export interface StatusLabels {
  done: string
  failed: string
}

/** A monotonic clock and a way to wait on it (injected by tests that run on virtual time). */
export interface Clock {
  now: () => number
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: async (ms, signal) => { await sleep(ms, signal) }
}

export interface ClaimerInit {
  client: GitHubClient
  /** This peer's node id, written into its claim markers. */
  node: string
  /** Lease length. Default 20 minutes. A dead holder is replaced sooner by a break (see `ClaimOptions.breaks`). */
  leaseMs?: number
  /** Renew this often while `startRenewing` runs (each renewal is one counted request). Default half the lease. */
  renewEveryMs?: number
  /** The list lag assumed: the wait between posting a claim and reading the comments. Default 2000 ms. */
  settleMs?: number
  /** How long past its lease another node's claim still counts (list lag + timestamp rounding). Default settleMs + 2000 ms. */
  graceMs?: number
  /** The holder stops when less than this remains of its lease; a publishing step lasts at most this. Default min(30 s, lease/5). */
  marginMs?: number
  /**
   * Logins whose markers count besides this peer's own: the mesh's peers' GitHub logins (as
   * announced in their signed capabilities) and a configured list. A function is read at
   * every decision, as peers come and go. Markers by anyone else are ignored (and logged).
   */
  trustedClaimants?: readonly string[] | (() => readonly string[])
  /** Count markers from anyone (only for tests of what strangers can do). Default false. */
  trustAnyone?: boolean
  /** Status labels for people (never relied on). Default `bzzz:done`, `bzzz:failed`. */
  labels?: Partial<StatusLabels>
  /** Set the assignee and the final label as status (best effort; peers with read access cannot). Default true. */
  setStatus?: boolean
  /**
   * Repositories (`owner/repo`) where a status write was refused (401/403): not tried again.
   * Pass one set to every claimer of a process, so that a peer with read access stops paying a
   * refused request per task. Default: this claimer's own.
   */
  statusRefused?: Set<string>
  /** Pages of comments read at most before failing closed. Default 30. */
  maxPages?: number
  /**
   * While `startRenewing` runs, the holder also reads the issue's comments this often
   * (conditionally: a free `304` when nothing changed). It notices a break or a lower claim
   * early, and keeps the unbroken run of reads that a fence needs to pass at once (a fence
   * after a quiet spell reads a few times first). Default a third of the chain's gap:
   * `marginMs / 6`, at least 333 ms.
   */
  watchEveryMs?: number
  clock?: Clock
}

export interface ClaimOptions {
  signal?: AbortSignal
  /** Attempt number to write into the marker (the winner corrects it on its first renewal). Default 1. */
  attempt?: number
  /**
   * Break this claim (its comment id): the mesh holds its holder dead. The new claim names it;
   * the broken claim stops counting for everybody, and this claim publishes nothing before
   * its own server time + 2 × settleMs + marginMs.
   */
  breaks?: number
  /**
   * Called once the claim comment is on GitHub (its POST answered), before the settle delay and
   * the read that decides; not called when the claim ends before that (aborted, failed, or
   * refused at once because an earlier claim is known to hold the task).
   */
  onPosted?: () => void
}

export type ClaimOutcome =
  | { outcome: 'won', claim: ClaimHandle }
  | {
    outcome: 'lost'
    reason: 'held' | 'completed' | 'expired' | 'unanswered'
    winner: { id: number, node: string, author: string } | undefined
    scope: string
    /** Claiming again (except to break) is pointless for this long (ms): until the winner's lease could end. */
    retryAfterMs: number | undefined
  }

/** What a passed fence allows: one publishing step, aborted when the margin is used up or the claim is lost. */
export interface FencePass {
  signal: AbortSignal
  /** Local monotonic time (ms) at which the step's signal aborts. */
  deadline: number
}

export interface ClaimHandle {
  readonly repo: string
  readonly issue: number
  readonly claimId: number
  readonly node: string
  readonly attempt: number
  /** The claim this one broke, if any. */
  readonly breaks: number | undefined
  /** The accounting scope of this task's requests: `task:owner/repo#N`. */
  readonly scope: string
  /** Aborted (with a `ClaimLostError`) as soon as the claim is known to be lost or finished. */
  readonly signal: AbortSignal
  /** The state machine's state (see claim-machine.ts). */
  readonly state: HandleState['name']
  /** The logins whose markers count for this claim. */
  readonly trusted: readonly string[] | undefined
  /** End of the lease in server time, as last confirmed. */
  leaseExpiresAt: () => number
  /** Extends the lease by editing the claim comment. Throws `ClaimLostError` if it was lost. */
  renew: (options?: { signal?: AbortSignal }) => Promise<void>
  /**
   * Renews every `renewEveryMs` until completed, released or lost. `onRenewed` runs after each
   * renewal that landed (the lease then ends at `leaseExpiresAt()`): a peer tells the mesh, whose
   * view of the lease otherwise ends with the lease it first announced.
   */
  startRenewing: (options?: { onRenewed?: () => void }) => void
  stopRenewing: () => void
  /**
   * Fencing: re-reads the issue's claims (conditionally: a free `304` when nothing changed) and
   * throws `ClaimLostError` unless this claim still holds with margin to spare.
   */
  fence: (options?: { signal?: AbortSignal }) => Promise<FencePass>
  /**
   * A fence before publishing on the issue: also waits out a breaker's delay, and says whether a
   * result is already published (terminal claim, failure report) so that it is adopted instead.
   */
  publishStep: (options?: { signal?: AbortSignal }) => Promise<FencePass & { existing: FoundResult | undefined }>
  /** Marks the claim terminal (done or failed) so nobody claims the issue again, and sets the status label. */
  complete: (state: 'done' | 'failed', resultUrl?: string, options?: { signal?: AbortSignal }) => Promise<void>
  /** Gives the issue up: deletes the claim comment, unless a terminal edit was sent. */
  release: (options?: { signal?: AbortSignal }) => Promise<void>
  /** The `task_claim` message announcing this claim on the mesh. */
  toMessage: () => TaskClaimMessage
}

export interface Claimer {
  readonly node: string
  claim: (repo: string, issue: number, options?: ClaimOptions) => Promise<ClaimOutcome>
  /** Waits for the orphan sweeps in progress (tests, shutdown). */
  idle: () => Promise<void>
}

const POST_ROUTE = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments' as const
const PATCH_ROUTE = 'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}' as const
const DELETE_ROUTE = 'DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}' as const
const COMMENT_ROUTE = 'GET /repos/{owner}/{repo}/issues/comments/{comment_id}' as const

/** A signal that aborts after `ms` on `clock`, or when `parent` does. */
function deadlineSignal (clock: Clock, ms: number, parent: AbortSignal, reason: () => Error): AbortSignal {
  const c = new AbortController()
  const stop = new AbortController()
  const onParent = (): void => { stop.abort(); c.abort(parent.reason) }
  if (parent.aborted) onParent()
  else parent.addEventListener('abort', onParent, { once: true })
  clock.sleep(Math.max(0, ms), stop.signal).then(() => {
    parent.removeEventListener('abort', onParent)
    c.abort(reason())
  }, () => {})
  return c.signal
}

export function createClaimer (init: ClaimerInit): Claimer {
  checkNodeId(init.node)
  const client = init.client
  const clock = init.clock ?? systemClock
  const leaseMs = init.leaseMs ?? 1_200_000
  const settleMs = init.settleMs ?? 2000
  const graceMs = init.graceMs ?? settleMs + 2000
  const marginMs = init.marginMs ?? Math.min(30_000, Math.floor(leaseMs / 5))
  const renewEveryMs = init.renewEveryMs ?? Math.floor(leaseMs / 2)
  const labels: StatusLabels = { done: 'bzzz:done', failed: 'bzzz:failed', ...init.labels }
  const setStatus = init.setStatus ?? true
  if (leaseMs <= marginMs + settleMs) throw new ConfigError('the lease must be longer than settleMs + marginMs')
  if (renewEveryMs >= leaseMs - marginMs) throw new ConfigError('renewEveryMs must leave margin before the lease ends')
  const { gapMs, spanMs } = chainBounds({ marginMs, settleMs })
  const watchEveryMs = init.watchEveryMs ?? Math.max(1, Math.floor(gapMs / 3))
  if (watchEveryMs >= gapMs) throw new ConfigError(`watchEveryMs must be shorter than the chain's gap (${gapMs} ms)`)
  const fenceEveryMs = Math.max(1, Math.floor(gapMs / 6))

  // Per issue: until when (local ms) claiming again is pointless, and who held it.
  // The last read is kept: asked again, the claimer reads conditionally (free when unchanged) and
  // claims at once if no claim holds any more (the winner released it: a drain, a delegation).
  const retryAt = new Map<string, { at: number, reason: 'held' | 'completed', winner: { id: number, node: string, author: string } | undefined, read: CommentsRead | undefined }>()
  const sweeps = new Set<Promise<void>>()
  const ignoredLogged = new Set<number>()

  const trustedList = (): readonly string[] => typeof init.trustedClaimants === 'function' ? init.trustedClaimants() : (init.trustedClaimants ?? [])

  const bestEffort = async (what: () => Promise<unknown>): Promise<void> => {
    try {
      await what()
    } catch (err) {
      if (!(err instanceof GitHubRequestError)) throw err
      client.log.debug(`status update skipped: ${err.message}`)
    }
  }
  // Repositories where status writes were refused (read-only peers): not tried again.
  const noStatus = init.statusRefused ?? new Set<string>()
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

  const deleteComment = async (ref: RepoRef, id: number, scope: string): Promise<void> => {
    await bestEffort(async () => {
      try {
        await client.request(DELETE_ROUTE, { ...ref, comment_id: id }, { scope })
      } catch (err) {
        if (err instanceof GitHubRequestError && err.status === 404) return
        throw err
      }
    })
  }

  const logUntrusted = (comments: readonly CommentData[], trusted: readonly string[] | undefined): void => {
    if (trusted === undefined) return
    const allow = new Set(trusted.map((l) => l.toLowerCase()))
    for (const c of comments) {
      if (ignoredLogged.has(c.id) || allow.has((c.user?.login ?? '').toLowerCase()) || parseClaimMarker(c.body) === undefined) continue
      ignoredLogged.add(c.id)
      client.log.info(`ignoring claim marker in comment ${c.id} by ${c.user?.login ?? 'nobody'}: not a login of the mesh`)
    }
  }

  /** After an aborted or unanswered POST: look for the nonce once the list has caught up, and delete what is found. */
  const sweepLater = (ref: RepoRef, issue: number, scope: string, nonce: string): void => {
    const p = (async () => {
      await clock.sleep(2 * settleMs)
      const read = await listIssueComments({ client, ref, issue, scope, maxPages: init.maxPages })
      for (const id of orphansIn(read.comments, nonce, undefined)) await deleteComment(ref, id, scope)
    })().catch((err: unknown) => { client.log.warn(`sweeping an unanswered claim on #${issue} failed: ${(err as Error).message}`) })
    sweeps.add(p)
    void p.finally(() => sweeps.delete(p))
  }

  /**
   * Whether a claim still holds an issue this claimer lost (updating the cache entry), by a
   * conditional read: false when none does. A failed read keeps the cached answer.
   */
  const recheck = async (ref: RepoRef, issue: number, scope: string, known: NonNullable<ReturnType<typeof retryAt.get>>, trusted: readonly string[] | undefined, signal: AbortSignal | undefined): Promise<boolean | undefined> => {
    try {
      const r = await listIssueComments({ client, ref, issue, scope, signal, previous: known.read, maxPages: init.maxPages })
      known.read = r
      const serverNow = r.serverTime ?? Date.now()
      const held = stillHeld({ graceMs, trusted, untrustedLeaseMs: leaseMs }, r.comments, serverNow)
      if (held === undefined) return false
      const w = held.winner
      known.winner = { id: w.id, node: w.marker.node, author: w.author }
      known.reason = w.marker.state === 'claimed' ? 'held' : 'completed'
      known.at = held.retryAt === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : clock.now() + Math.max(0, held.retryAt - serverNow)
      return true
    } catch (err) {
      if (signal?.aborted === true) throw err
      client.log.debug(`re-reading the claims of #${issue} failed: ${(err as Error).message}`)
      return undefined
    }
  }

  const claim = async (repo: string, issue: number, options: ClaimOptions = {}): Promise<ClaimOutcome> => {
    const ref = parseRepo(repo)
    const key = `${repo}#${issue}`
    const scope = `task:${key}`
    const signal = options.signal
    signal?.throwIfAborted()
    const login = init.trustAnyone === true ? undefined : await client.login({ signal })
    const trusted = login === undefined ? undefined : [login, ...trustedList()]
    const known = retryAt.get(key)
    if (options.breaks === undefined && known !== undefined && clock.now() < known.at) {
      const held = known.reason === 'completed' ? undefined : await recheck(ref, issue, scope, known, trusted, signal)
      if (known.reason === 'completed' || held !== false) {
        return { outcome: 'lost', reason: known.reason, winner: known.winner, scope, retryAfterMs: known.at - clock.now() }
      }
      retryAt.delete(key)
    }
    const cfg: MachineConfig = {
      node: init.node,
      nonce: randomBytes(12).toString('base64url'),
      leaseMs,
      settleMs,
      graceMs,
      marginMs,
      trusted,
      // A peer missing from the trust list is still respected for one lease (never extended).
      untrustedLeaseMs: leaseMs,
      breaks: options.breaks,
      chainGapMs: gapMs,
      chainSpanMs: spanMs
    }
    let attempt = options.attempt ?? 1
    let s: HandleState = initialState
    const apply = (e: HandleEvent): HandleState => {
      s = step(cfg, s, e, attempt)
      if (s.name === 'holding') attempt = s.attempt
      return s
    }
    let lastRead: CommentsRead | undefined
    let lastServer = { serverNow: 0, at: 0 }
    // Reads go one at a time (a fence's and the watch's): each one's send and answer times chain.
    let reading: Promise<unknown> = Promise.resolve()
    const read = async (sig?: AbortSignal): Promise<HandleState> => {
      const next = reading.then(async () => await readNow(sig))
      reading = next.catch(() => {})
      return await next
    }
    const readNow = async (sig?: AbortSignal): Promise<HandleState> => {
      if (isFinal(s)) return s
      sig?.throwIfAborted()
      const sentAt = clock.now()
      const r = await listIssueComments({ client, ref, issue, scope, signal: sig, previous: lastRead, maxPages: init.maxPages })
      const at = clock.now()
      lastRead = r
      const serverNow = r.serverTime ?? (lastServer.serverNow + at - lastServer.at)
      lastServer = { serverNow, at }
      logUntrusted(r.comments, cfg.trusted)
      const ownId = 'own' in s ? s.own?.id : undefined
      for (const id of orphansIn(r.comments, cfg.nonce, ownId)) await deleteComment(ref, id, scope)
      let comments: CommentData[] = r.comments
      if (ownId !== undefined && !comments.some((c) => c.id === ownId)) {
        // Not listed: deleted, or the list lags. The comment itself says which (404: deleted).
        try {
          const own = await client.request(COMMENT_ROUTE, { ...ref, comment_id: ownId }, { scope, signal: sig })
          comments = [...comments, own.data as CommentData]
        } catch (err) {
          if (!(err instanceof GitHubRequestError) || (err.status !== 404 && err.status !== 410)) throw err
        }
      }
      return apply({ type: 'read', comments, serverNow, sentAt, at: clock.now() })
    }
    const withdrawIfDue = async (): Promise<void> => {
      if ((s.name === 'lost' || s.name === 'released') && s.withdraw && s.own !== undefined) await deleteComment(ref, s.own.id, scope)
      if (s.name === 'lost' && s.orphan) sweepLater(ref, issue, scope, cfg.nonce)
    }

    // 1. Post the claim. After an ambiguous failure it is looked for by its nonce once the list
    // has caught up, and posted again only if it is not there (at most MAX_POSTS times).
    let sentAt: number
    try {
      while (s.name === 'posting') {
        if (s.tries > 1) await clock.sleep(Math.min(500 * (s.tries - 1) ** 2, 5000), signal)
        sentAt = clock.now()
        try {
          const res = await client.request(POST_ROUTE, { ...ref, issue_number: issue, body: formatClaimBody(markerFor(cfg, s, 'claimed', Date.now(), attempt)) }, { scope, signal })
          apply({ type: 'post_answered', comment: res.data as CommentData, sentAt })
        } catch (err) {
          if (signal?.aborted === true || !(err instanceof GitHubRequestError) || !err.ambiguous) throw err
          apply({ type: 'post_ambiguous' })
          await clock.sleep(settleMs, signal)
          const r = await listIssueComments({ client, ref, issue, scope, signal, maxPages: init.maxPages })
          const found = r.comments.filter((c) => parseClaimMarker(c.body)?.nonce === cfg.nonce).sort((a, b) => a.id - b.id)[0]
          apply({ type: 'post_found', comment: found, sentAt })
        }
      }
      // 2. Let the list catch up with every comment posted before ours, then read it and decide.
      if (s.name === 'deciding') {
        try { options.onPosted?.() } catch (err) { client.log.debug(`onPosted threw: ${(err as Error).message}`) }
        await clock.sleep(settleMs, signal)
        await read(signal)
      }
    } catch (err) {
      // Aborted or failed: the claim is withdrawn, and a POST that may still land is swept later.
      apply({ type: 'abort' })
      await withdrawIfDue()
      throw err
    }
    if (s.name !== 'holding') {
      await withdrawIfDue()
      const st = s as Extract<HandleState, { name: 'lost' }>
      const w: Claim | undefined = st.winner
      const winner = w === undefined ? undefined : { id: w.id, node: w.marker.node, author: w.author }
      const reason = st.reason === 'held' || st.reason === 'completed' || st.reason === 'unanswered' ? st.reason : 'expired'
      let retryAfterMs: number | undefined
      if (st.retryAt !== undefined && (reason === 'held' || reason === 'completed')) {
        retryAfterMs = st.retryAt === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : Math.max(0, st.retryAt - lastServer.serverNow)
        retryAt.set(key, { at: clock.now() + retryAfterMs, reason, winner, read: lastRead })
      }
      return { outcome: 'lost', reason, winner, scope, retryAfterMs }
    }
    retryAt.delete(key)

    // 3. Won.
    const own = s.own
    const controller = new AbortController()
    let renewStop: AbortController | undefined
    let renewing = false
    // Fences in progress (renewals wait for them: a write restarts the chain of reads).
    let fencing = 0
    // The last passed fence's step runs until then (local clock): renewals wait for it too, or
    // the next step's fence (a push, then the pull request) would have to build a new chain.
    let stepUntil = Number.NEGATIVE_INFINITY
    // Edits of the claim comment, one at a time and in call order.
    let edits: Promise<unknown> = Promise.resolve()
    const serially = async <T>(what: () => Promise<T>): Promise<T> => {
      const next = edits.then(what, what)
      edits = next.catch(() => {})
      return await next
    }
    const reasonOf = (st: HandleState): ClaimLostError['reason'] => {
      if (st.name === 'finished') return 'completed'
      if (st.name === 'released') return 'withdrawn'
      if (st.name === 'lost') return st.reason as LostReason
      return 'expired'
    }
    const stopRenewing = (): void => {
      renewing = false
      renewStop?.abort()
      renewStop = undefined
    }
    /** After a transition: a final state aborts the handle and withdraws the comment if due. */
    const settle = async (): Promise<void> => {
      if (!isFinal(s) || controller.signal.aborted) return
      controller.abort(new ClaimLostError(repo, issue, own.id, reasonOf(s)))
      stopRenewing()
      await withdrawIfDue()
    }
    const ensureHeld = (): void => {
      if (controller.signal.aborted) throw controller.signal.reason
    }
    const tick = async (): Promise<void> => {
      apply({ type: 'tick', at: clock.now() })
      await settle()
      ensureHeld()
    }

    const edit = async (asked: ClaimMarker['state'], askedUrl: string | undefined, opts: { signal?: AbortSignal }): Promise<void> => {
      const cur = s as Extract<HandleState, { name: 'holding' }>
      const { state, resultUrl } = editFor(s, asked, askedUrl)
      const body = formatClaimBody(markerFor(cfg, s, state, localServerEstimate(cur.own, clock.now()) - 1000, attempt, resultUrl))
      const sent = clock.now()
      apply({ type: 'edit_sent', terminal: state !== 'claimed', ...(state !== 'claimed' ? { edit: { state, resultUrl } } : {}) })
      try {
        const res = await client.request(PATCH_ROUTE, { ...ref, comment_id: own.id, body }, { scope, signal: opts.signal })
        apply({ type: 'edit_answered', comment: res.data as CommentData, sentAt: sent, at: clock.now(), terminal: state !== 'claimed' })
      } catch (err) {
        if (err instanceof GitHubRequestError && (err.status === 404 || err.status === 410)) apply({ type: 'edit_gone' })
        else {
          // Applied or not, the edit is over (an aborted one may still land: the chain waits for ever).
          if (err instanceof GitHubRequestError) apply({ type: 'edit_failed', at: clock.now() })
          throw err
        }
      } finally {
        await settle()
      }
    }

    const handle: ClaimHandle = {
      repo,
      issue,
      claimId: own.id,
      node: init.node,
      get attempt () { return attempt },
      breaks: options.breaks,
      scope,
      signal: controller.signal,
      get state () { return s.name },
      trusted: cfg.trusted,
      leaseExpiresAt: () => ('own' in s && s.own !== undefined ? s.own.updatedAt : own.updatedAt) + leaseMs,
      async renew (opts = {}) {
        ensureHeld()
        await serially(async () => {
          ensureHeld()
          await tick()
          await edit('claimed', undefined, opts)
        })
        ensureHeld()
      },
      startRenewing (options = {}) {
        if (renewing || controller.signal.aborted) return
        renewing = true
        const stop = new AbortController()
        renewStop = stop
        const leaseLeft = (): number => s.name === 'holding' ? s.own.updatedAt + leaseMs - localServerEstimate(s.own, clock.now()) : 0
        const loop = async (): Promise<void> => {
          let wait = renewEveryMs
          for (;;) {
            await clock.sleep(wait, stop.signal)
            if (!renewing || stop.signal.aborted) return
            // A renewal restarts the fence's chain of reads: while a fence builds one (or a passed
            // fence's step runs, the next step's fence to come), wait, until the lease is about to
            // run too short for that fence to pass anyway (a fence lasts minutes at most, so with
            // the default lease/2 this never comes near).
            while ((fencing > 0 || clock.now() < stepUntil) && leaseLeft() > marginMs + 1000) await clock.sleep(Math.min(watchEveryMs, Math.max(1, leaseLeft() - marginMs - 1000)), stop.signal)
            if (!renewing || stop.signal.aborted) return
            try {
              await handle.renew()
              wait = renewEveryMs
              options.onRenewed?.()
            } catch (err) {
              if (err instanceof ClaimLostError || !renewing) return
              client.log.warn(`renewing claim ${own.id} on ${repo}#${issue} failed: ${(err as Error).message}`)
              wait = Math.max(100, Math.min(30_000, Math.floor(renewEveryMs / 4)))
            }
          }
        }
        // The watch: a conditional read every watchEveryMs (free while nothing changes). While a
        // fence reads (more often), the watch's reads would only add requests: it skips them.
        const watch = async (): Promise<void> => {
          for (;;) {
            await clock.sleep(watchEveryMs, stop.signal)
            if (!renewing || stop.signal.aborted || controller.signal.aborted) return
            if (fencing > 0) continue
            try {
              await read(stop.signal)
              await settle()
            } catch (err) {
              if (stop.signal.aborted) return
              client.log.debug(`watching claim ${own.id} on ${repo}#${issue}: ${(err as Error).message}`)
            }
          }
        }
        loop().catch(() => {})
        watch().catch(() => {})
      },
      stopRenewing,
      async fence (opts = {}) {
        const sig = opts.signal === undefined ? controller.signal : AbortSignal.any([controller.signal, opts.signal])
        const began = clock.now()
        let giveUpAt: number | undefined
        let failures = 0
        fencing++
        try {
          for (;;) {
            ensureHeld()
            await tick()
            const readFrom = clock.now()
            try {
              await read(opts.signal)
            } catch (err) {
              // A failed read only leaves a gap in the chain; several in a row fail the fence (closed).
              if (!(err instanceof GitHubRequestError || err instanceof ListingError) || opts.signal?.aborted === true || ++failures > 3) throw err
              await clock.sleep(watchEveryMs, sig)
              continue
            }
            failures = 0
            await settle()
            ensureHeld()
            const h = s as Extract<HandleState, { name: 'holding' }>
            // A young claim waits: an earlier holder's last step must be over and listed first.
            // And the reads must chain back far enough (after a quiet spell: read a few times).
            const young = publishWait(s, lastServer.serverNow + clock.now() - lastServer.at)
            const wait = Math.max(young, chainWait(cfg, s))
            // Reads that do not chain (slow, failing, or cut by the claim's own writes) for three
            // spans on top of a young claim's wait: fail closed.
            giveUpAt ??= began + young + 3 * spanMs
            if (wait > 0 && clock.now() + Math.min(wait, fenceEveryMs) > giveUpAt) throw new FenceUnconfirmedError(repo, issue, own.id, clock.now() - began)
            if (wait > 0) {
              // Reads closer than the watch's: one slow read (a rate-limit wait) still chains. The
              // pause counts from the read's send: a read slowed by a loaded machine is not
              // followed by a full pause too (the next read's answer must come within the gap).
              await clock.sleep(Math.max(1, Math.min(wait, fenceEveryMs) - (clock.now() - readFrom)), sig)
              continue
            }
            // The step starts at the passing read's send.
            const deadline = h.chain!.lastSent + marginMs
            stepUntil = Math.max(stepUntil, deadline)
            return { deadline, signal: deadlineSignal(clock, deadline - clock.now(), sig, () => new ClaimLostError(repo, issue, own.id, 'step-overran')) }
          }
        } finally {
          fencing--
        }
      },
      async publishStep (opts = {}) {
        const pass = await handle.fence(opts)
        return { ...pass, existing: resultInComments(lastRead?.comments ?? [], issue, cfg.trusted, own.id) }
      },
      async complete (state, resultUrl, opts = {}) {
        ensureHeld()
        stopRenewing()
        await serially(async () => {
          // A lapsed holder marks nothing: the next holder adopts what it published.
          await tick()
          await edit(state, resultUrl, opts)
        })
        await statusWrite(repo, async () => await client.request('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', { ...ref, issue_number: issue, labels: [state === 'done' ? labels.done : labels.failed] }, { scope, signal: opts.signal, retry: true }))
      },
      async release () {
        stopRenewing()
        apply({ type: 'release' })
        await settle()
      },
      toMessage () {
        const lost = s.name === 'lost' ? s.reason : undefined
        return {
          type: 'task_claim',
          v: 1,
          task_id: `#${issue}`,
          node_id: init.node,
          timestamp: formatTimestamp(),
          repo,
          lease_expires: formatTimestamp(handle.leaseExpiresAt()),
          attempt,
          claim_id: own.id,
          state: s.name === 'holding' || s.name === 'finished' ? 'claimed' : 'released',
          ...(options.breaks !== undefined ? { breaks: options.breaks } : {}),
          ...(lost !== undefined ? { reason: lost } : {})
        }
      }
    }

    try {
      await statusWrite(repo, async () => {
        await client.request('POST /repos/{owner}/{repo}/issues/{issue_number}/assignees', { ...ref, issue_number: issue, assignees: [login ?? await client.login({ signal })] }, { scope, signal, retry: true })
      })
      signal?.throwIfAborted()
    } catch (err) {
      // Aborted after winning: the caller gets no handle, so nobody would renew or release it.
      await handle.release().catch(() => {})
      throw err
    }
    return { outcome: 'won', claim: handle }
  }

  return {
    node: init.node,
    claim,
    async idle () {
      while (sweeps.size > 0) await Promise.allSettled([...sweeps])
    }
  }
}

export type { Claim }
