// One claimed task, from the claim to its result: claim on GitHub, announce, fork, find earlier
// work, run the executor, publish (pull request or failure report), complete the claim.
// Stopped work pushes its WIP and releases the claim; work that needs help hands it over.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { ClaimHandle, Claimer, GitHubClient, Publisher } from '@bzzz/github'
import { taskResultMessage } from '@bzzz/github'
import { formatTimestamp, type TaskBroadcastMessage, type Topic, type TopicMessageMap } from '@bzzz/protocol'
import type { Logger } from 'pino'
import type { NodeEvents } from './events.js'
import type { TaskExecutor, TaskOutcome, WipSource } from './execution.js'
import { branchFor, findWipOnForks, wipNote } from './wip.js'

/** What a worker needs from its node. */
export interface WorkerContext {
  nodeId: string
  client: GitHubClient
  /**
   * A claimer for one attempt. A claimer remembers a lost claim until the winner's lease could
   * end; the node's ledger knows better (a release, a delegation), so each attempt gets a fresh one.
   */
  claimer: () => Claimer
  publisher: Publisher
  executor: TaskExecutor
  logger: Logger
  workRoot: string
  now: () => number
  publish: <T extends Topic>(topic: T, message: TopicMessageMap[T]) => Promise<void>
  emit: <K extends keyof NodeEvents>(event: K, ...args: NodeEvents[K]) => void
  /** The latest WIP a peer announced for the task, if any. */
  wipFor: (key: string) => WipSource | undefined
  /** The GitHub logins of the holders of attempts 1 to `attempt - 1`; undefined when one is not known (every fork is then read). */
  earlierHolders?: (key: string, attempt: number) => string[] | undefined
  /** Asks the mesh for help; resolves to the accepted helper, or undefined when nobody could. */
  askForHelp: (work: { key: string, repo: string, issue: number, capability: string, reason: string, claim: ClaimHandle, signal: AbortSignal }) => Promise<string | undefined>
}

export interface WorkRequest {
  key: string
  repo: string
  issue: number
  attempt: number
  announcement: TaskBroadcastMessage | undefined
  /** Aborted to stop the work (drain deadline, stop): it pushes its WIP and releases. */
  signal: AbortSignal
  /** Set by a crash (`kill`): stop without releasing or publishing anything. */
  abrupt: () => boolean
  /** The claim comment of a dead holder to break, when the mesh holds it dead. */
  breaks?: number
  /**
   * Called once the agent has ended (what is left is committing, pushing and publishing, which
   * waits for the claim's fence): the node frees the task's slot. Repeats are harmless.
   */
  agentEnded?: () => void
  /** Called once the claim comment is on GitHub (see the claimer's `onPosted`). */
  onPosted?: () => void
}

export type WorkEnd =
  | { end: 'lost', reason: 'held' | 'completed' | 'expired' | 'unanswered', winner: string | undefined, retryAfterMs: number | undefined }
  | { end: 'published', type: 'pull_request' | 'issue' | 'failure', url: string }
  | { end: 'released', reason: string }
  | { end: 'delegated', to: string }
  | { end: 'crashed' }
  | { end: 'error', error: Error }

export function parseTaskKey (key: string): { repo: string, issue: number } {
  const i = key.lastIndexOf('#')
  return { repo: key.slice(0, i), issue: Number(key.slice(i + 1)) }
}

export async function runWork (ctx: WorkerContext, req: WorkRequest): Promise<WorkEnd> {
  const { key, repo, issue } = req
  const log = ctx.logger.child({ task: key })
  const outcome = await ctx.claimer().claim(repo, issue, {
    attempt: req.attempt,
    signal: req.signal,
    ...(req.breaks !== undefined ? { breaks: req.breaks } : {}),
    ...(req.onPosted !== undefined ? { onPosted: req.onPosted } : {})
  })
  if (outcome.outcome === 'lost') {
    log.debug({ reason: outcome.reason, winner: outcome.winner?.node }, 'claim lost')
    return { end: 'lost', reason: outcome.reason, winner: outcome.winner?.node, retryAfterMs: outcome.retryAfterMs }
  }
  const claim = outcome.claim
  const begun = ctx.now()
  const signal = AbortSignal.any([claim.signal, req.signal])
  const claimMessage = (state: 'claimed' | 'running' | 'released'): TopicMessageMap['task_claim'] => ({
    ...claim.toMessage(), state, timestamp: formatTimestamp(ctx.now())
  })
  await ctx.publish('task_claim', claimMessage('claimed'))
  // Each renewal is announced with its new lease: a peer whose view of the lease ran out would
  // take the task for offered again and claim it (in vain) while this one works on.
  let announced: 'claimed' | 'running' = 'claimed'
  claim.startRenewing({ onRenewed: () => { ctx.publish('task_claim', claimMessage(announced)).catch((err: Error) => { log.warn({ err: err.message }, 'renewal not announced') }) } })
  log.info({ attempt: claim.attempt, claimId: claim.claimId }, 'claim won')
  const release = async (reason: string): Promise<WorkEnd> => {
    if (req.abrupt()) return { end: 'crashed' }
    claim.stopRenewing()
    await claim.release().catch((err: Error) => { log.warn({ err: err.message }, 'release failed') })
    await ctx.publish('task_claim', claimMessage('released')).catch(() => {})
    ctx.emit('task:released', { key, attempt: claim.attempt, reason })
    return { end: 'released', reason }
  }
  // The work directory is made once the claim is won (a claim goes out with no file system turn
  // before it); a disk that refuses it releases the claim at once.
  let dir: string
  try {
    await mkdir(ctx.workRoot, { recursive: true })
    dir = await mkdtemp(join(ctx.workRoot, `issue-${issue}-`))
  } catch (err) {
    await release(`no work directory: ${(err as Error).message}`)
    return { end: 'error', error: err as Error }
  }
  // One result per issue: a result another peer already published is adopted, not repeated.
  const finish = async (published: { url: string, adopted?: { state: 'done' | 'failed', url: string | undefined } }, type: 'pull_request' | 'issue' | 'failure', reason?: string): Promise<WorkEnd> => {
    const state = published.adopted?.state ?? (type === 'failure' ? 'failed' : 'done')
    const url = published.adopted?.url ?? published.url
    await claim.complete(state, url, { signal: req.signal })
    const resultType = published.adopted !== undefined ? (state === 'done' ? 'pull_request' : 'failure') : type
    await ctx.publish('task_result', taskResultMessage(claim, {
      type: resultType, url, durationMs: ctx.now() - begun, ...(resultType === 'failure' ? { reason: reason ?? 'failed' } : {})
    }))
    log.info({ url, type: resultType, adopted: published.adopted !== undefined }, 'result published')
    return { end: 'published', type: resultType, url }
  }
  try {
    const fork = await ctx.publisher.ensureFork(repo, { scope: claim.scope, signal })
    const branch = branchFor(issue)
    let wip = ctx.wipFor(key)
    if (wip === undefined && claim.attempt > 1) {
      const owners = ctx.earlierHolders?.(key, claim.attempt)
      wip = await findWipOnForks(ctx.client, repo, issue, { ownFork: fork.fullName, ...(owners !== undefined ? { owners } : {}), scope: claim.scope, signal })
    }
    await ctx.publish('task_claim', claimMessage('running'))
    announced = 'running'
    const result: TaskOutcome = await ctx.executor.run({
      key,
      repo,
      issue,
      attempt: claim.attempt,
      announcement: req.announcement,
      claim,
      client: ctx.client,
      publisher: ctx.publisher,
      fork,
      branch,
      wip,
      workDir: dir,
      signal,
      progress: (event) => { ctx.emit('task:progress', { key, attempt: claim.attempt, event }) },
      agentEnded: () => { req.agentEnded?.() },
      wipPushed: (b) => {
        const note = wipNote({ fork: fork.fullName, branch: b, cloneUrl: fork.cloneUrl })
        ctx.publish('meta_discussion', {
          type: 'meta_discussion', v: 1, task_id: `#${issue}`, repo, node_id: ctx.nodeId, body: note, timestamp: formatTimestamp(ctx.now()), thread_id: key
        }).catch((err: Error) => { log.warn({ err: err.message }, 'wip note not sent') })
      }
    })
    if (req.abrupt()) return { end: 'crashed' }
    req.agentEnded?.()
    switch (result.kind) {
      case 'changes': {
        const pr = await ctx.publisher.openPullRequest(claim, {
          fork, branch, title: result.title, summary: result.summary, ...(result.log !== undefined ? { log: result.log } : {}), signal
        })
        return await finish(pr, 'pull_request')
      }
      case 'failure': {
        const report = await ctx.publisher.reportFailure(claim, { tried: result.tried, error: result.reason, durationMs: ctx.now() - begun, signal })
        return await finish(report, 'failure', result.reason)
      }
      case 'published':
        return await finish({ url: result.url }, result.type, result.reason)
      case 'help': {
        const helper = await ctx.askForHelp({ key, repo, issue, capability: result.capability, reason: result.reason, claim, signal })
        if (helper === undefined) {
          const report = await ctx.publisher.reportFailure(claim, { tried: 'asked the mesh for help; nobody could', error: result.reason, durationMs: ctx.now() - begun, signal })
          return await finish(report, 'failure', result.reason)
        }
        await release(`delegated to ${helper}`)
        return { end: 'delegated', to: helper }
      }
      case 'stopped':
        return await release(signal.aborted && claim.signal.aborted ? 'claim lost' : 'stopped')
    }
  } catch (err) {
    if (req.abrupt()) return { end: 'crashed' }
    log.warn({ err: (err as Error).message }, 'work stopped')
    if (claim.signal.aborted) return { end: 'error', error: err as Error }
    await release((err as Error).message)
    return { end: 'error', error: err as Error }
  } finally {
    claim.stopRenewing()
    await rm(dir, { recursive: true, force: true }).catch(() => {})
  }
}

