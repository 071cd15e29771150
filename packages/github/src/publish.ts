import { formatTimestamp, type ResultType, type TaskResultMessage } from '@bzzz/protocol'
import { systemClock, type ClaimHandle, type Clock, type FencePass } from './claimer.js'
import type { GitHubClient } from './client.js'
import { ForkNotReadyError, GitHubRequestError } from './errors.js'
import { resultInPulls, type FoundResult } from './result.js'
import { createOnce, nextPage, parseRepo, sleep, truncate } from './util.js'

export interface PublisherInit {
  client: GitHubClient
  /** How long to wait for a new fork's git objects. Default 5 minutes. */
  forkReadyTimeoutMs?: number
  /** First wait between fork readiness checks (doubles, up to 30 s). Default 1000 ms. */
  forkPollMs?: number
  /** Wait before looking for a write whose answer was lost; ≥ the server's list lag. Default 2000 ms. */
  settleMs?: number
  /** Longest log excerpt put in a pull request. Default 20 000 characters. */
  maxLogChars?: number
  /** How to wait (tests inject a virtual clock). Default: real time. */
  clock?: Clock
}

export interface ForkInfo {
  owner: string
  repo: string
  fullName: string
  defaultBranch: string
  /** The fork's git URL, without credentials; authenticate with `client.gitEnv()`. */
  cloneUrl: string
}

export interface PullRequestInit {
  fork: ForkInfo
  branch: string
  /** The upstream branch to merge into. Default: the fork's default branch. */
  base?: string
  title: string
  summary: string
  /** The agent's log; its tail goes into the body, redacted. */
  log?: string
  signal?: AbortSignal
}

export interface Published {
  number: number
  url: string
  /** False when the pull request/issue/comment already existed (a retry found it, or it was adopted). */
  created: boolean
  /**
   * Set when a result of this issue was already published (by any peer: a pull request with a
   * `bzzz:result` marker, a failure report, a terminal claim) and nothing new was published:
   * complete the claim with its `url` and `state` instead.
   */
  adopted?: FoundResult
}

export interface FailureReport {
  /** What was tried (commands, approaches). */
  tried: string
  error: string
  durationMs: number
  signal?: AbortSignal
}

export interface Publisher {
  /** Forks the upstream (once: cached, and idempotent on GitHub) and waits until the fork's git is ready. */
  ensureFork: (upstream: string, options?: { scope?: string, signal?: AbortSignal }) => Promise<ForkInfo>
  /** Fences, then opens a pull request from `fork:branch` that closes the issue. Never opens two. */
  openPullRequest: (claim: ClaimHandle, init: PullRequestInit) => Promise<Published>
  /** Fences, then opens a follow-up issue; `key` makes it unique per task. */
  createIssue: (claim: ClaimHandle, init: { title: string, body: string, key: string, signal?: AbortSignal }) => Promise<Published>
  /** Fences, then posts a failure report on the issue. */
  reportFailure: (claim: ClaimHandle, report: FailureReport) => Promise<Published>
}

interface ForkJob { promise: Promise<ForkInfo>, controller: AbortController, waiters: number, settled: boolean }

interface TimelineEvent { event?: string, source?: { issue?: { body?: string | null, html_url: string, user?: { login: string } | null, pull_request?: unknown } } }

interface PullData { number: number, html_url: string, head: { label: string, ref: string }, body?: string | null, user?: { login: string } | null, created_at?: string }

export function createPublisher (init: PublisherInit): Publisher {
  const client = init.client
  const settleMs = init.settleMs ?? 2000
  const maxLog = init.maxLogChars ?? 20_000
  const forks = new Map<string, ForkJob>()
  const clock = init.clock ?? systemClock
  const wait = async (ms: number, signal?: AbortSignal): Promise<void> => { await clock.sleep(ms, signal) }

  const waitReady = async (fork: ForkInfo, scope: string, fresh: boolean, signal?: AbortSignal): Promise<void> => {
    const timeout = init.forkReadyTimeoutMs ?? 300_000
    const start = Date.now()
    let wait = init.forkPollMs ?? 1000
    // A fork made just now is not ready yet: a check at once would only cost a request.
    if (fresh) {
      await sleep(wait, signal)
      wait = Math.min(wait * 2, 30_000)
    }
    for (;;) {
      try {
        await client.request('GET /repos/{owner}/{repo}/git/ref/{ref}', { owner: fork.owner, repo: fork.repo, ref: `heads/${fork.defaultBranch}` }, { scope, signal })
        return
      } catch (err) {
        if (!(err instanceof GitHubRequestError) || (err.status !== 404 && err.status !== 409)) throw err
      }
      if (Date.now() - start + wait > timeout) throw new ForkNotReadyError(fork.fullName, Date.now() - start)
      await sleep(wait, signal)
      wait = Math.min(wait * 2, 30_000)
    }
  }

  const ensureFork = async (upstream: string, options: { scope?: string, signal?: AbortSignal } = {}): Promise<ForkInfo> => {
    options.signal?.throwIfAborted()
    let job = forks.get(upstream)
    if (job === undefined) {
      const ref = parseRepo(upstream)
      const scope = options.scope ?? `fork:${upstream}`
      // Shared by every caller: it stops only when all of them have given up, so that one
      // task's abort (e.g. its claim was lost) does not fail another task's fork.
      const controller = new AbortController()
      const signal = controller.signal
      const promise = (async () => {
        // POST /forks is idempotent on GitHub (an existing fork is returned), so it may be retried.
        const res = await client.request('POST /repos/{owner}/{repo}/forks', { ...ref }, { scope, signal, retry: true })
        const d = res.data as { name: string, full_name: string, owner: { login: string }, default_branch?: string, clone_url?: string, created_at?: string }
        const createdAt = d.created_at === undefined ? NaN : Date.parse(d.created_at)
        const fresh = Number.isNaN(createdAt) || (res.serverTime ?? Date.now()) - createdAt < 10_000
        const fork: ForkInfo = {
          owner: d.owner.login,
          repo: d.name,
          fullName: d.full_name,
          defaultBranch: d.default_branch ?? 'main',
          cloneUrl: d.clone_url ?? `${client.gitBaseUrl}/${d.full_name}.git`
        }
        await waitReady(fork, scope, fresh, signal)
        return fork
      })()
      const created: ForkJob = { promise, controller, waiters: 0, settled: false }
      job = created
      forks.set(upstream, created)
      promise.then(() => { created.settled = true }, () => {
        created.settled = true
        if (forks.get(upstream) === created) forks.delete(upstream)
      })
    }
    const mine = job
    mine.waiters++
    const callerSignal = options.signal
    let onAbort: (() => void) | undefined
    try {
      if (callerSignal === undefined) return await mine.promise
      return await new Promise<ForkInfo>((resolve, reject) => {
        onAbort = () => { reject(callerSignal.reason) }
        callerSignal.addEventListener('abort', onAbort, { once: true })
        mine.promise.then(resolve, reject)
      })
    } finally {
      if (onAbort !== undefined) callerSignal?.removeEventListener('abort', onAbort)
      mine.waiters--
      if (mine.waiters === 0 && !mine.settled && callerSignal?.aborted === true) {
        // Nobody waits any more: stop polling, and let the next caller start afresh.
        if (forks.get(upstream) === mine) forks.delete(upstream)
        mine.controller.abort(callerSignal.reason)
      }
    }
  }

  /**
   * One publishing step: fence (waiting out a breaker's delay), then look for a result already
   * published and adopt it. The step's requests carry a signal that aborts when the fence's
   * margin is used up or the claim is lost, so no step outlives its fence.
   */
  const beginStep = async (claim: ClaimHandle, signal: AbortSignal | undefined): Promise<{ pass: FencePass, signal: AbortSignal, adopted: Published | undefined }> => {
    const pass = await claim.publishStep({ ...(signal !== undefined ? { signal } : {}) })
    const joined = signal === undefined ? pass.signal : AbortSignal.any([pass.signal, signal])
    const adopt = (found: FoundResult): Published => ({ number: Number(/\/(\d+)(?:#.*)?$/.exec(found.url ?? '')?.[1] ?? 0), url: found.url ?? '', created: false, adopted: found })
    if (pass.existing !== undefined) return { pass, signal: joined, adopted: adopt(pass.existing) }
    const found = await findResultPull(claim, joined)
    return { pass, signal: joined, adopted: found === undefined ? undefined : adopt(found) }
  }

  // The issue's timeline: every pull request whose body mentions the issue (a result says
  // `Closes #N`) is a `cross-referenced` event there. One request per task, whatever the number
  // of pull requests in the repository (a scan of the newest pull requests grew with it).
  const findResultPull = async (claim: ClaimHandle, signal: AbortSignal): Promise<FoundResult | undefined> => {
    const ref = parseRepo(claim.repo)
    let page: number | undefined = 1
    while (page !== undefined && page <= 10) {
      const res = await client.request('GET /repos/{owner}/{repo}/issues/{issue_number}/timeline', { ...ref, issue_number: claim.issue, per_page: 100, page }, { scope: claim.scope, signal })
      const pulls = (res.data as TimelineEvent[]).flatMap((e) => e.event === 'cross-referenced' && e.source?.issue?.pull_request != null ? [e.source.issue] : [])
      const found = resultInPulls(pulls, claim.issue, claim.trusted)
      if (found !== undefined) return found
      page = nextPage(res.link)
    }
    return undefined
  }

  const openPullRequest = async (claim: ClaimHandle, pr: PullRequestInit): Promise<Published> => {
    const ref = parseRepo(claim.repo)
    const scope = claim.scope
    const head = `${pr.fork.owner}:${pr.branch}`
    const logPart = pr.log === undefined || pr.log === ''
      ? ''
      : `\n\n<details><summary>Agent log (excerpt)</summary>\n\n\`\`\`text\n${client.redact(truncateTail(pr.log, maxLog)).replace(/```/g, '`​``')}\n\`\`\`\n</details>`
    const body = `Closes #${claim.issue}\n\n${pr.summary}${logPart}\n\n<!-- bzzz:result ${JSON.stringify({ task: `#${claim.issue}`, node: claim.node, claim: claim.claimId, attempt: claim.attempt })} -->\n`
    const step = await beginStep(claim, pr.signal)
    if (step.adopted !== undefined) return step.adopted
    const signal = step.signal
    const find = async (): Promise<Published | undefined> => {
      const res = await client.request('GET /repos/{owner}/{repo}/pulls', { ...ref, head, state: 'all', per_page: 10 }, { scope, signal })
      const found = (res.data as PullData[]).find((p) => p.head.label === head || p.head.ref === pr.branch)
      return found === undefined ? undefined : { number: found.number, url: found.html_url, created: false }
    }
    return await createOnce<Published>({
      sleep: wait,
      signal,
      settleMs,
      // GitHub refuses a second pull request for the same head and base with 422.
      exists: (err) => err.status === 422 && /already exists/i.test(err.detail ?? ''),
      create: async () => {
        const res = await client.request('POST /repos/{owner}/{repo}/pulls', {
          ...ref, title: pr.title, head, base: pr.base ?? pr.fork.defaultBranch, body, maintainer_can_modify: true
        }, { scope, signal })
        const d = res.data as PullData
        return { number: d.number, url: d.html_url, created: true }
      },
      find
    })
  }

  // No `since` cursor: it would come from this peer's clock, which may disagree with GitHub's.
  const findMarkedComment = async (repo: string, issue: number, marker: string, scope: string, signal?: AbortSignal): Promise<Published | undefined> => {
    const ref = parseRepo(repo)
    let page: number | undefined = 1
    while (page !== undefined && page <= 20) {
      const res = await client.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...ref, issue_number: issue, per_page: 100, page }, { scope, signal })
      const c = (res.data as Array<{ id: number, body?: string, html_url: string }>).find((x) => x.body?.includes(marker) === true)
      if (c !== undefined) return { number: c.id, url: c.html_url, created: false }
      page = nextPage(res.link)
    }
    return undefined
  }

  const createIssue = async (claim: ClaimHandle, issue: { title: string, body: string, key: string, signal?: AbortSignal }): Promise<Published> => {
    const ref = parseRepo(claim.repo)
    const scope = claim.scope
    const marker = `<!-- bzzz:followup ${JSON.stringify({ task: `#${claim.issue}`, key: issue.key.slice(0, 200) })} -->`
    const pass = await claim.publishStep({ ...(issue.signal !== undefined ? { signal: issue.signal } : {}) })
    const signal = issue.signal === undefined ? pass.signal : AbortSignal.any([pass.signal, issue.signal])
    return await createOnce<Published>({
      sleep: wait,
      signal,
      settleMs,
      create: async () => {
        const res = await client.request('POST /repos/{owner}/{repo}/issues', {
          ...ref, title: issue.title, body: `${issue.body}\n\nFollow-up of #${claim.issue}.\n\n${marker}\n`
        }, { scope, signal })
        return { number: Number(res.data.number), url: res.data.html_url, created: true }
      },
      find: async () => {
        const login = await client.login({ signal })
        const res = await client.request('GET /repos/{owner}/{repo}/issues', { ...ref, creator: login, state: 'all', sort: 'created', direction: 'desc', per_page: 100 }, { scope, signal })
        const found = res.data.find((i) => i.body?.includes(marker) === true)
        return found === undefined ? undefined : { number: found.number, url: found.html_url, created: false }
      }
    })
  }

  const reportFailure = async (claim: ClaimHandle, report: FailureReport): Promise<Published> => {
    const ref = parseRepo(claim.repo)
    const scope = claim.scope
    const marker = `<!-- bzzz:failure ${JSON.stringify({ task: `#${claim.issue}`, node: claim.node, claim: claim.claimId, attempt: claim.attempt })} -->`
    const body = [
      `🐝 Bzzz node \`${claim.node}\` could not finish this issue (attempt ${claim.attempt}).`,
      '',
      `**Time taken:** ${formatDuration(report.durationMs)}`,
      '',
      '**What was tried:**',
      '',
      client.redact(truncate(report.tried, 8000)),
      '',
      '**Error:**',
      '',
      '```text',
      client.redact(truncate(report.error, 8000)).replace(/```/g, '`​``'),
      '```',
      '',
      marker,
      ''
    ].join('\n')
    const step = await beginStep(claim, report.signal)
    if (step.adopted !== undefined) return step.adopted
    const signal = step.signal
    return await createOnce<Published>({
      sleep: wait,
      signal,
      settleMs,
      create: async () => {
        const res = await client.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...ref, issue_number: claim.issue, body }, { scope, signal })
        return { number: Number(res.data.id), url: res.data.html_url, created: true }
      },
      find: async () => await findMarkedComment(claim.repo, claim.issue, marker, scope, signal)
    })
  }

  return { ensureFork, openPullRequest, createIssue, reportFailure }
}

function truncateTail (text: string, max: number): string {
  return text.length <= max ? text : `… (earlier lines left out)\n${text.slice(text.length - max)}`
}

function formatDuration (ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`
}

/** The `task_result` message announcing a published result on the mesh. */
export function taskResultMessage (claim: Pick<ClaimHandle, 'repo' | 'issue' | 'node' | 'attempt'>, result: {
  type: ResultType
  url: string
  durationMs: number
  /** Required for `failure`. */
  reason?: string
  extraUrls?: string[]
}): TaskResultMessage {
  return {
    type: 'task_result',
    v: 1,
    task_id: `#${claim.issue}`,
    node_id: claim.node,
    result_type: result.type,
    result_url: result.url,
    duration_ms: Math.max(0, result.durationMs),
    timestamp: formatTimestamp(),
    repo: claim.repo,
    attempt: claim.attempt,
    ...(result.reason !== undefined ? { reason: result.reason.slice(0, 4096) } : result.type === 'failure' ? { reason: 'failed' } : {}),
    ...(result.extraUrls !== undefined ? { extra_urls: result.extraUrls.slice(0, 32) } : {})
  }
}
