/**
 * The simulation's peers are apps/peer's `createNode`: the daemon's own assembly. This file
 * only adapts it to the `SimNode` seam: it hands the node the forge, a clock, a pino logger
 * whose lines come back to the sim, and an executor that runs the scenario's agent; and it
 * turns the node's typed events into the sim's events.
 */
import { createNode, openWorkspace, staticCapabilities, type BzzzNode, type NodeTimings, type TaskExecutor } from '@bzzz/peer'
import type { AgentAdapter } from '@bzzz/executor'
import { pino } from 'pino'
import { NodeError } from './errors.js'
import type { LogCheck } from './events.js'
import type { NodeFactory, NodeSpec, SimNode } from './node.js'

/**
 * An executor that runs an in-process agent adapter in the task's workspace, with the
 * scenario's timeout (a hanging agent is stopped there and the task fails), then commits and
 * pushes. It stands where @bzzz/executor will, behind the node's `TaskExecutor` seam.
 */
export function agentExecutor (agent: AgentAdapter, identity: { name: string, email: string }, timeoutMs: number): TaskExecutor {
  return {
    run: async (work) => {
      if (agent.kind !== 'in-process') return { kind: 'failure', reason: `agent ${agent.name} is a CLI; the sim runs CLIs through @bzzz/executor`, tried: agent.name }
      const ws = await openWorkspace(work, identity)
      const signal = AbortSignal.any([work.signal, AbortSignal.timeout(timeoutMs)])
      let final: { ok: boolean, text?: string } | undefined
      try {
        await agent.run({ prompt: `[sim-task ${work.key}] ${work.announcement?.title ?? ''}`, cwd: ws.dir }, {
          signal,
          onEvent: (e) => {
            if (e.type === 'final') final = { ok: e.ok, ...(e.text !== undefined ? { text: e.text } : {}) }
            else if (e.type === 'file_change') work.progress({ kind: 'file_change', text: e.path })
            else if (e.type === 'message') work.progress({ kind: 'message', text: e.text })
          }
        })
      } catch (err) {
        if (work.signal.aborted) return { kind: 'stopped', wipPushed: false }
        return { kind: 'failure', reason: signal.aborted ? `the agent ran past ${timeoutMs} ms and was stopped` : (err as Error).message, tried: agent.name }
      }
      if (work.signal.aborted) return { kind: 'stopped', wipPushed: false }
      if (final?.ok !== true) return { kind: 'failure', reason: final?.text ?? 'the agent did not finish', tried: agent.name }
      // The agent is done; the push waits for the claim's fence, which holds no slot.
      work.agentEnded()
      if (await ws.commitAll(`Resolve #${work.issue}`)) await ws.push()
      return { kind: 'changes', title: `Resolve #${work.issue}`, summary: final.text ?? 'done by the agent' }
    }
  }
}

function timingsOf (spec: NodeSpec): Partial<NodeTimings> {
  const t = spec.timings
  const liveness = {
    ...(t.suspectAfterMs !== undefined ? { suspectAfterMs: t.suspectAfterMs } : {}),
    ...(t.deadAfterMs !== undefined ? { deadAfterMs: t.deadAfterMs } : {})
  }
  const pick = <K extends 'presenceMs' | 'capabilitiesMs' | 'warmUpMs' | 'tickMs' | 'watchIntervalMs' | 'replicateMs' | 'forkPollMs' | 'standbyStepMs'>(k: K): Partial<NodeTimings> => (t[k] !== undefined ? { [k]: t[k] } : {})
  return {
    ...pick('presenceMs'), ...pick('capabilitiesMs'), ...pick('warmUpMs'), ...pick('tickMs'), ...pick('watchIntervalMs'),
    ...pick('replicateMs'), ...pick('forkPollMs'), ...pick('standbyStepMs'),
    ...(Object.keys(liveness).length > 0 ? { liveness } : {}),
    ...(spec.lease !== undefined ? { leaseMs: spec.lease.leaseMs, renewEveryMs: spec.lease.renewEveryMs, settleMs: spec.lease.settleMs } : {}),
    ...(spec.lease?.marginMs !== undefined ? { marginMs: spec.lease.marginMs } : {})
  }
}

function follow (node: BzzzNode, spec: NodeSpec): void {
  node.on('task:announced', (e) => { spec.report({ kind: 'task_seen', task: e.key, peer: spec.name }) })
  node.on('task:claimed', (e) => { if (e.self) spec.report({ kind: 'claim_won', task: e.key, peer: spec.name, attempt: e.attempt }) })
  node.on('task:running', (e) => { if (e.self) spec.report({ kind: 'work_started', task: e.key, peer: spec.name }) })
  node.on('task:result', (e) => {
    if (e.self) spec.report({ kind: 'published', task: e.key, peer: spec.name, outcome: e.type === 'failure' ? 'failed' : 'done', url: e.url })
  })
}

/** `transport: memory`: every peer in this process, on libp2p's memory transport. */
export function memoryNodeFactory (): NodeFactory {
  return async (spec, { signal }) => {
    const denied = new Set<string>()
    const logger = pino({ level: 'info', base: { peer: spec.name } }, { write: (line: string) => { spec.logLine(line.trimEnd()) } })
    const identity = { name: spec.login, email: `${spec.name}@bzzz.local` }
    let node: BzzzNode
    try {
      node = await createNode({
        name: spec.name,
        dataDir: spec.dataDir,
        store: 'memory',
        mesh: { transport: 'memory', meshName: 'sim', denyPeer: (id) => denied.has(id), ...(spec.encryption !== undefined ? { encryption: spec.encryption } : {}) },
        github: { token: spec.token, baseUrl: spec.forgeUrl, gitBaseUrl: spec.forgeUrl, throttle: { writeMinTimeMs: 0, notificationMinTimeMs: 0 } },
        repos: spec.repos,
        ...(spec.timings.watchOverlapMs !== undefined ? { watch: { overlapMs: spec.timings.watchOverlapMs } } : {}),
        trustedClaimants: spec.peerLogins,
        now: spec.now,
        // A CLI agent runs through @bzzz/executor, as in the daemon; the scripted one in process.
        ...(spec.agent.kind === 'cli'
          ? { agent: spec.agent, ...(spec.agentOptions !== undefined ? { agentOptions: spec.agentOptions } : {}) }
          : { executor: agentExecutor(spec.agent, identity, spec.agentTimeoutMs) }),
        capabilities: staticCapabilities({ installed: ['claude'] }),
        slots: spec.slots,
        timings: timingsOf(spec),
        logger
      })
      follow(node, spec)
      await node.start({ signal })
      for (const addr of spec.bootstrap) await node.mesh.dial(addr, { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) }).catch(() => {})
    } catch (err) {
      throw new NodeError(spec.name, (err as Error).message, { cause: err })
    }
    const sim: SimNode = {
      name: spec.name,
      peerId: node.nodeId,
      multiaddrs: () => node.mesh.getMultiaddrs().map(String),
      stop: async ({ signal }) => { await node.stop({ signal }) },
      kill: async () => { await node.kill() },
      partition: async (peerIds) => {
        for (const id of peerIds) denied.add(id)
        await Promise.all(node.mesh.libp2p.getPeers().filter((p) => denied.has(p.toString())).map(async (p) => { await node.mesh.libp2p.hangUp(p).catch(() => {}) }))
      },
      heal: async () => { denied.clear() },
      connections: () => node.mesh.getPeers().length,
      requestCounts: () => {
        const c = node.client.requestCounts()
        return { total: c.total.counted, scopes: Object.fromEntries(Object.entries(c.scopes).map(([k, v]) => [k, v.counted])) }
      },
      verifyLogs: async ({ signal, replicate = true }): Promise<LogCheck> => {
        if (replicate) await node.replicate({ signal }).catch(() => [])
        const checks = await node.verifyLogs({ signal })
        const bad = checks.find((c) => !c.ok)
        return {
          peer: spec.name,
          ok: checks.length > 0 && bad === undefined,
          entries: checks.reduce((n, c) => n + c.length, 0),
          ...(bad !== undefined ? { error: `log of ${bad.author.slice(-8)} entry ${bad.error?.seq ?? '?'}: ${bad.error?.code ?? ''} ${bad.error?.message ?? ''}` } : checks.length === 0 ? { error: 'no log to verify' } : {})
        }
      }
    }
    return sim
  }
}
