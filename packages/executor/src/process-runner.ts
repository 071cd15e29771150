// Runs one CLI agent: stdin /dev/null, stdout and stderr to files read line by line into the
// adapter's parser, contained so that the whole tree can be ended, under the run state machine.
import { spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { AgentCommand, AgentEvent } from './agent.js'
import { AgentSpawnError } from './errors.js'
import { containedArgv, type Containment, type SandboxSpec } from './isolation.js'
import { createTail, followFile } from './output-tail.js'
import { initialState, transition, type FinalSeen, type RunInput, type RunState, type StopReason, type Usage } from './run-machine.js'
import type { RunLimits } from './types.js'

export interface ProcessRunInit {
  command: AgentCommand
  cwd: string
  /** The complete environment (already reduced to the allowlist). */
  env: Record<string, string>
  parser: (line: string) => AgentEvent[]
  limits: RunLimits
  /** Where `stdout.log` and `stderr.log` are written (outside the workspace). */
  logDir: string
  containment: Containment
  sandbox?: SandboxSpec
  /** Default 64 MiB over both files. */
  maxOutputBytes?: number
  /** Default 8000. */
  tailChars?: number
  /** How often limits are checked and output read. Default 100 ms. */
  tickMs?: number
  signal?: AbortSignal
  onEvent?: (event: AgentEvent) => void
  onState?: (state: RunState) => void
}

export interface ProcessRunResult {
  /** `exited`: by itself; otherwise why the runner ended it. */
  reason: StopReason | 'exited'
  exitCode: number | null
  exitSignal: string | null
  final: FinalSeen | undefined
  usage: Usage
  toolCalls: number
  denied: number
  /** The end of stdout and stderr, interleaved as read. */
  tail: string
  durationMs: number
  outputBytes: number
  stdoutPath: string
  stderrPath: string
}

/** Sends `sig` to the contained tree. With a PID namespace SIGTERM goes to the agent itself (unshare's child) and SIGKILL to unshare, which ends the namespace. */
async function signalTree (pid: number, containment: Containment, sig: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const send = (target: number): void => {
    try { process.kill(target, sig) } catch { /* already gone */ }
  }
  if (containment === 'process-group') { send(-pid); return }
  if (sig === 'SIGKILL') { send(pid); return }
  let children: number[] = []
  try {
    children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim().split(/\s+/).filter((x) => x !== '').map(Number)
  } catch { /* it has exited */ }
  if (children.length === 0) send(pid)
  for (const c of children) send(c)
}

export async function runProcess (init: ProcessRunInit): Promise<ProcessRunResult> {
  const limits = init.limits
  const maxOutput = init.maxOutputBytes ?? 64 * 1024 * 1024
  const tickMs = init.tickMs ?? 100
  const stdoutPath = join(init.logDir, 'stdout.log')
  const stderrPath = join(init.logDir, 'stderr.log')
  const outFd = openSync(stdoutPath, 'w')
  const errFd = openSync(stderrPath, 'w')
  const [file, args] = containedArgv(init.command.file, init.command.args, init.containment, init.sandbox, [init.command.file, ...(init.env.PATH ?? '').split(':')])
  let child
  try {
    child = spawn(file, args, { cwd: init.cwd, env: init.env, stdio: ['ignore', outFd, errFd], detached: true })
  } catch (err) {
    closeSync(outFd); closeSync(errFd)
    throw new AgentSpawnError(init.command.file, err)
  }
  closeSync(outFd)
  closeSync(errFd)
  // Listen at once: an instant agent may exit before the next await ends.
  let exitInfo: { code: number | null, signal: string | null } | undefined
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => { exitInfo = { code, signal }; resolve() })
  })
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => { resolve(undefined) })
    child.once('error', (err) => { resolve(err) })
  })
  if (spawned !== undefined) throw new AgentSpawnError(init.command.file, spawned)
  const pid = child.pid!

  const out = await followFile(stdoutPath)
  const err = await followFile(stderrPath)
  const tail = createTail(init.tailChars ?? 8000)
  const parse = init.parser
  let state = initialState(Date.now())
  init.onState?.(state)

  const apply = async (input: RunInput): Promise<void> => {
    const before = state.name
    const step = transition(state, input, limits)
    state = step.state
    for (const effect of step.effects) await signalTree(pid, init.containment, effect === 'kill' ? 'SIGKILL' : 'SIGTERM')
    if (state.name !== before) init.onState?.(state)
  }

  const drain = async (final: boolean): Promise<void> => {
    const now = Date.now()
    const o = await out.read(final)
    const e = await err.read(final)
    if (o.bytes + e.bytes > 0) await apply({ type: 'activity', now })
    for (const line of o.lines) {
      tail.push(line)
      let events: AgentEvent[] = []
      try { events = parse(line) } catch { /* an adapter's parser must not end the run */ }
      for (const event of events) {
        init.onEvent?.(event)
        await apply({ type: 'event', now, event })
      }
    }
    for (const line of e.lines) tail.push(line)
    if (!final && out.size + err.size > maxOutput) await apply({ type: 'output_limit', now })
  }

  const onAbort = (): void => { void apply({ type: 'abort', now: Date.now() }) }
  if (init.signal?.aborted === true) onAbort()
  else init.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    while (exitInfo === undefined) {
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, tickMs))])
      if (exitInfo === undefined && (child.exitCode !== null || child.signalCode !== null)) exitInfo = { code: child.exitCode, signal: child.signalCode }
      await drain(false)
      if (exitInfo === undefined) await apply({ type: 'tick', now: Date.now() })
    }
    await drain(true)
    const info = exitInfo as { code: number | null, signal: string | null }
    await apply({ type: 'exit', now: Date.now(), code: info.code, signal: info.signal })
    // Nothing may outlive the run: with a process group, end what is left of it.
    if (init.containment === 'process-group') await signalTree(pid, 'process-group', 'SIGKILL')
  } finally {
    init.signal?.removeEventListener('abort', onAbort)
    await out.close()
    await err.close()
  }
  const s = state
  return {
    reason: s.name === 'exited' ? s.reason : 'exited',
    exitCode: s.name === 'exited' ? s.exitCode : null,
    exitSignal: s.name === 'exited' ? s.exitSignal : null,
    final: s.final,
    usage: s.usage,
    toolCalls: s.toolCalls,
    denied: s.denied,
    tail: tail.text(),
    durationMs: Date.now() - s.startedAt,
    outputBytes: out.size + err.size,
    stdoutPath,
    stderrPath
  }
}
