// The executor: from a held claim to a published result. Prepares the workspace, runs the
// agent under its limits while pushing work in progress, then publishes a pull request,
// follow-up issues, a failure report, or hands back a help request or a cancellation.
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { ClaimLostError, type Published } from '@bzzz/github'
import type { AgentEvent, AgentRunSpec } from './agent.js'
import { classify } from './classify.js'
import { agentEnv, DEFAULT_ENV_ALLOW, secretsOfGitEnv } from './env.js'
import { ExecutorConfigError } from './errors.js'
import { globalIdentity } from './git.js'
import { runInProcess } from './in-process-runner.js'
import { assertBwrap, detectContainment, type Containment } from './isolation.js'
import { readOutcomeFile, type OutcomeFile } from './outcome-file.js'
import { runProcess, type ProcessRunResult } from './process-runner.js'
import { buildPrompt, readContributing } from './prompt.js'
import type {
  CancelReason, Executor, ExecutorEvent, ExecutorInit, ExecutorOutcome, ExecutorTask, FailureReason, GitIdentity, HeldClaim, RunLimits, RunOptions
} from './types.js'
import { createWorkspaces, type Workspace, type Workspaces } from './workspace.js'

export const DEFAULT_LIMITS: RunLimits = { wallClockMs: 30 * 60_000, inactivityMs: 5 * 60_000, exitGraceMs: 10_000, killGraceMs: 2000 }

/** `bzzz/<issue>-<short node id>`: the node id's last 8 characters (libp2p ids share their prefix). */
export function taskBranch (issue: number, node: string): string {
  const short = node.replace(/[^A-Za-z0-9]/g, '').slice(-8).toLowerCase() || 'node'
  return `bzzz/${issue}-${short}`
}

type RunResult = Omit<ProcessRunResult, 'stdoutPath' | 'stderrPath'>

export function createExecutor<C extends HeldClaim = HeldClaim> (init: ExecutorInit<C>): Executor<C> {
  const root = resolve(init.dataDir, 'executor')
  const limits: RunLimits = { ...DEFAULT_LIMITS, ...init.limits }
  const wipIntervalMs = init.wipIntervalMs ?? 120_000
  const closing = new AbortController()
  const running = new Set<Promise<unknown>>()
  const log = init.log ?? {}
  const secrets = (): string[] => secretsOfGitEnv(init.gitEnv())
  const redact = (text: string): string => secrets().reduce((t, s) => t.split(s).join('***'), text)
  let ready: Promise<{ workspaces: Workspaces, containment: Containment, identity: GitIdentity }> | undefined

  const setup = async (): Promise<{ workspaces: Workspaces, containment: Containment, identity: GitIdentity }> => {
    const identity = init.identity ?? await globalIdentity()
    if (identity === undefined) throw new ExecutorConfigError('no git identity: give `identity` or set user.name and user.email in the node\'s ~/.gitconfig')
    if (init.sandbox === 'bwrap') await assertBwrap()
    const containment: Containment = init.isolation === 'pid-namespace' || init.isolation === 'process-group' ? init.isolation : await detectContainment()
    if (containment === 'process-group') log.warn?.('no PID namespace here: agents run in a process group, and a child that calls setsid may outlive its run')
    return { workspaces: createWorkspaces({ root, gitEnv: init.gitEnv, identity, redact }), containment, identity }
  }

  const runTask = async (task: ExecutorTask, claim: C, options: RunOptions): Promise<ExecutorOutcome> => {
    if (task.repo !== claim.repo || task.issue !== claim.issue) throw new ExecutorConfigError(`task ${task.repo}#${task.issue} is not the claim's ${claim.repo}#${claim.issue}`)
    const started = Date.now()
    const emit = (e: ExecutorEvent): void => { options.onEvent?.(e) }
    const signal = AbortSignal.any([claim.signal, closing.signal, ...(options.signal !== undefined ? [options.signal] : [])])
    const cancelReason = (): CancelReason => claim.signal.aborted ? 'claim_lost' : closing.signal.aborted ? 'closed' : 'aborted'
    const usage = { inputTokens: 0, outputTokens: 0, costUsd: 0 }
    const base = (): { durationMs: number, usage: typeof usage } => ({ durationMs: Date.now() - started, usage })
    const cancelled = (reason: CancelReason, wip?: ExecutorOutcome['wip']): ExecutorOutcome => ({ type: 'cancelled', reason, ...base(), ...(wip !== undefined ? { wip } : {}) })
    const scope = (claim as { scope?: unknown }).scope
    const isLost = (err: unknown): boolean => err instanceof ClaimLostError || (err as Error | undefined)?.name === 'ClaimLostError'

    const report = async (reason: FailureReason, tried: string, tail: string, wip?: ExecutorOutcome['wip']): Promise<ExecutorOutcome> => {
      try {
        const published = await init.publisher.reportFailure(claim, { tried, error: tail === '' ? reason : tail, durationMs: Date.now() - started, signal })
        return { type: 'failure', reason, report: published, tried, tail, ...base(), ...(wip !== undefined ? { wip } : {}) }
      } catch (err) {
        if (signal.aborted || isLost(err)) return cancelled(isLost(err) ? 'claim_lost' : cancelReason(), wip)
        throw err
      }
    }

    emit({ type: 'state', state: 'preparing' })
    const { workspaces, containment } = await (ready ??= setup())
    let ws: Workspace
    let fork
    try {
      fork = await init.publisher.ensureFork(claim.repo, { signal, ...(typeof scope === 'string' ? { scope } : {}) })
      ws = await workspaces.prepare({ upstream: claim.repo, fork, branch: taskBranch(claim.issue, claim.node), signal, ...(task.wipFrom !== undefined ? { wipFrom: task.wipFrom } : {}) })
    } catch (err) {
      if (signal.aborted || isLost(err)) return cancelled(isLost(err) ? 'claim_lost' : cancelReason())
      const message = redact(err instanceof Error ? `${err.name}: ${err.message}` : String(err))
      return await report('workspace', 'Preparing the workspace (fork, clone, task branch).', message)
    }
    const logDir = join(root, 'runs', `${basename(ws.dir)}-${randomBytes(4).toString('hex')}`)
    try {
      // Work in progress: snapshots pushed one at a time, at an interval and at every end.
      let head = ws.start
      let pushed: ExecutorOutcome['wip']
      let chain: Promise<void> = Promise.resolve()
      const wip = async (message: string): Promise<void> => {
        chain = chain.then(async () => {
          // Pushing must finish even when the run was cancelled: bounded by its own timeout.
          const bound = AbortSignal.timeout(120_000)
          const commit = await workspaces.snapshot(ws, head, message, bound)
          if (commit === undefined && pushed !== undefined) return
          const target = commit ?? head
          if (target === ws.start && ws.resumedFrom?.owner === fork.owner && ws.resumedFrom.branch === ws.branch) { pushed = { owner: fork.owner, repo: fork.repo, branch: ws.branch, commit: target }; return }
          if (target === ws.upstreamHead) return
          await workspaces.push(ws, target, bound)
          head = target
          pushed = { owner: fork.owner, repo: fork.repo, branch: ws.branch, commit: target }
          emit({ type: 'wip', branch: ws.branch, commit: target })
        }).catch((err: unknown) => { log.warn?.(`work in progress not pushed: ${redact(err instanceof Error ? err.message : String(err))}`) })
        await chain
      }

      const contributing = await readContributing(ws.dir)
      const prompt = buildPrompt({ repo: claim.repo, issue: claim.issue, title: task.title, body: task.body, ...(task.input !== undefined ? { input: task.input } : {}), ...(contributing !== undefined ? { contributing } : {}) })
      const model = task.model ?? init.model
      const spec: AgentRunSpec = {
        prompt,
        cwd: ws.dir,
        ...(model !== undefined ? { model } : {}),
        limits: {
          ...(limits.maxTurns !== undefined ? { maxTurns: limits.maxTurns } : {}),
          ...(limits.maxCostUsd !== undefined ? { maxBudgetUsd: limits.maxCostUsd } : {}),
          ...(limits.maxTokens !== undefined ? { maxTokens: limits.maxTokens } : {})
        },
        ...(init.endpoint !== undefined ? { endpoint: init.endpoint } : {})
      }
      const onEvent = (event: AgentEvent): void => { emit({ type: 'agent', event }) }
      emit({ type: 'state', state: 'running' })
      const timer = wipIntervalMs > 0 ? setInterval(() => { void wip('bzzz: work in progress') }, wipIntervalMs) : undefined
      let result: RunResult
      try {
        if (init.agent.kind === 'cli') {
          await mkdir(logDir, { recursive: true })
          const command = init.agent.command(spec)
          result = await runProcess({
            command,
            cwd: ws.dir,
            env: agentEnv({ base: process.env, allow: init.envAllow ?? DEFAULT_ENV_ALLOW, extra: { ...init.env, ...command.env }, secrets: secrets() }),
            parser: init.agent.parser(),
            limits,
            logDir,
            containment,
            ...(init.sandbox === 'bwrap' ? { sandbox: { writable: [ws.dir, ...(init.sandboxWritable ?? [])], readable: [ws.cacheDir], hidden: [resolve(init.dataDir)], cwd: ws.dir } } : {}),
            ...(init.maxOutputBytes !== undefined ? { maxOutputBytes: init.maxOutputBytes } : {}),
            ...(init.tailChars !== undefined ? { tailChars: init.tailChars } : {}),
            signal,
            onEvent
          })
        } else {
          result = await runInProcess({ adapter: init.agent, spec, limits, signal, onEvent, ...(init.tailChars !== undefined ? { tailChars: init.tailChars } : {}) })
        }
      } catch (err) {
        if (timer !== undefined) clearInterval(timer)
        await wip('bzzz: work in progress (the agent could not start)')
        if (signal.aborted) return cancelled(cancelReason(), pushed)
        return await report('agent_failed', `Starting the agent \`${init.agent.name}\`.`, redact(err instanceof Error ? err.message : String(err)), pushed)
      }
      if (timer !== undefined) clearInterval(timer)
      Object.assign(usage, result.usage)

      emit({ type: 'state', state: 'collecting' })
      let file: OutcomeFile | undefined
      let fileProblem: string | undefined
      try {
        file = await readOutcomeFile(ws.dir)
      } catch (err) {
        fileProblem = err instanceof Error ? err.message : String(err)
      }
      const ended = signal.aborted ? 'cancelled' : result.reason
      await wip(ended === 'exited' || ended === 'exit_grace' ? `bzzz: #${claim.issue} ${oneLine(task.title)}` : `bzzz: work in progress (${ended})`)
      const changed = await workspaces.differs(ws, head, ws.upstreamHead)
      const verdict = signal.aborted ? { type: 'cancelled' as const } : classify({ ...result, changed, file })
      const tail = redact(result.tail)
      const tried = triedText(init.agent.name, result, changed, fileProblem)
      emit({ type: 'state', state: 'publishing' })
      const outcome = await (async (): Promise<ExecutorOutcome> => {
        switch (verdict.type) {
          case 'cancelled':
            return cancelled(cancelReason(), pushed)
          case 'help':
            return { type: 'help', capabilities: verdict.capabilities, reason: verdict.reason, ...base(), ...(pushed !== undefined ? { wip: pushed } : {}) }
          case 'failure':
            return await report(verdict.reason, tried, tail, pushed)
          case 'issues':
          case 'pull_request': {
            try {
              let pr: Published | undefined
              if (verdict.type === 'pull_request') {
                await claim.fence({ signal })
                if (pushed?.commit !== head) await workspaces.push(ws, head, signal)
                pr = await init.publisher.openPullRequest(claim, {
                  fork, branch: ws.branch, title: oneLine(task.title), summary: file?.summary ?? result.final?.text ?? `Changes made by the \`${init.agent.name}\` agent.`, log: tail, signal
                })
              }
              const followUps: Published[] = []
              for (const f of file?.follow_ups ?? []) {
                followUps.push(await init.publisher.createIssue(claim, { title: f.title, body: f.body, key: createHash('sha256').update(`${f.title}\n${f.body}`).digest('hex').slice(0, 16), signal }))
              }
              const wipOut = { owner: fork.owner, repo: fork.repo, branch: ws.branch, commit: head }
              return pr !== undefined
                ? { type: 'pull_request', url: pr.url, number: pr.number, branch: ws.branch, commit: head, followUps, ...base(), wip: wipOut }
                : { type: 'issues', followUps, ...base(), ...(pushed !== undefined ? { wip: pushed } : {}) }
            } catch (err) {
              if (signal.aborted || isLost(err)) return cancelled(isLost(err) ? 'claim_lost' : cancelReason(), pushed)
              throw err
            }
          }
        }
      })()
      emit({ type: 'state', state: 'done' })
      emit({ type: 'ended', outcome: outcome.type })
      return outcome
    } finally {
      workspaces.release(ws)
      await rm(logDir, { recursive: true, force: true })
    }
  }

  return {
    run: async (task, claim, options = {}) => {
      const p = runTask(task, claim, options)
      running.add(p)
      try {
        return await p
      } finally {
        running.delete(p)
      }
    },
    close: async () => {
      closing.abort(new Error('executor closed'))
      await Promise.allSettled([...running])
    }
  }
}

function oneLine (text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 200)
}

function triedText (agent: string, r: RunResult, changed: boolean, fileProblem: string | undefined): string {
  const lines = [
    `- Ran the \`${agent}\` agent for ${Math.round(r.durationMs / 1000)} s; it ${r.reason === 'exited' ? `exited with ${r.exitCode ?? r.exitSignal}` : `was ended: ${r.reason.replace('_', ' ')}`}.`,
    `- Tool calls: ${r.toolCalls} (${r.denied} denied). Tokens: ${r.usage.inputTokens} in, ${r.usage.outputTokens} out${r.usage.costUsd > 0 ? `; cost $${r.usage.costUsd.toFixed(4)}` : ''}.`,
    `- Files changed: ${changed ? 'yes' : 'none'}.`
  ]
  if (r.final?.text !== undefined) lines.push(`- The agent's last word: ${oneLine(r.final.text).slice(0, 500)}`)
  if (fileProblem !== undefined) lines.push(`- Its outcome file was not valid: ${fileProblem.slice(0, 300)}`)
  return lines.join('\n')
}
