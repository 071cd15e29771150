/**
 * A stand-in node for the runner's own tests: no mesh and no claim protocol, only enough to
 * exercise the runner (events, the kill trigger, publications read from the forge). Task N
 * belongs to the live peer next in line from N; a killed peer's task moves on. It talks to
 * the forge over its REST API with its token, as a real node does.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { NodeFactory, SimNode } from './node.js'

export function fakeNodeFactory (peers: number, options: { leakToken?: boolean } = {}): NodeFactory {
  const alive = new Set<number>()
  const finished = new Set<number>()
  return async (spec) => {
    alive.add(spec.index)
    const controller = new AbortController()
    let requests = 0
    const scopes: Record<string, number> = {}
    const api = async (method: string, path: string, body?: unknown, scope?: string): Promise<unknown> => {
      requests++
      if (scope !== undefined) scopes[scope] = (scopes[scope] ?? 0) + 1
      const res = await fetch(`${spec.forgeUrl}${path}`, {
        method,
        headers: { authorization: `token ${spec.token}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: controller.signal
      })
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`)
      return await res.json()
    }
    const owner = (n: number): number | undefined => {
      for (let k = 0; k < peers; k++) {
        const i = (n + k) % peers
        if (alive.has(i)) return i
      }
      return undefined
    }
    let handled = 0
    const loop = async (): Promise<void> => {
      spec.logLine(JSON.stringify({ msg: 'fake node up', name: spec.name, ...(options.leakToken === true ? { auth: spec.token } : {}) }))
      while (!controller.signal.aborted) {
        await once().catch((err: Error) => { spec.logLine(JSON.stringify({ msg: err.message })) })
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    const once = async (): Promise<void> => {
      {
        const issues = await api('GET', `/repos/${spec.repos[0]}/issues?labels=bzzz&per_page=100`) as Array<{ number: number, body: string }>
        for (const issue of issues) {
          if (!issue.body.includes('[sim-task ')) continue // a real node's watcher would find it ineligible
          const task = `${spec.repos[0]}#${issue.number}`
          if (finished.has(issue.number)) continue
          if (spec.index === 0) spec.report({ kind: 'task_seen', task, peer: spec.name })
          if (owner(issue.number) !== spec.index) continue
          finished.add(issue.number)
          handled++
          const scope = `task:${task}`
          spec.report({ kind: 'claim_posted', task, peer: spec.name })
          spec.report({ kind: 'claim_won', task, peer: spec.name, attempt: 1 })
          const cwd = await mkdtemp(join(tmpdir(), 'bzzz-sim-fake-'))
          let ok = false
          try {
            if (spec.agent.kind === 'in-process') {
              await spec.agent.run({ prompt: issue.body, cwd }, { signal: controller.signal, onEvent: (e) => { if (e.type === 'final') ok = e.ok } })
            }
          } catch {
            ok = false
          } finally {
            await rm(cwd, { recursive: true, force: true })
          }
          if (controller.signal.aborted) { finished.delete(issue.number); return }
          const marker = ok
            ? `<!-- bzzz:followup ${JSON.stringify({ task: `#${issue.number}`, key: 'k' })} -->`
            : `<!-- bzzz:failure ${JSON.stringify({ task: `#${issue.number}` })} -->`
          const created = ok
            ? await api('POST', `/repos/${spec.repos[0]}/issues`, { title: `follow-up of ${issue.number}`, body: marker }, scope)
            : await api('POST', `/repos/${spec.repos[0]}/issues/${issue.number}/comments`, { body: marker }, scope)
          spec.report({ kind: 'published', task, peer: spec.name, outcome: ok ? 'done' : 'failed', url: (created as { html_url: string }).html_url })
        }
      }
    }
    const running = loop().catch(() => {})
    const node: SimNode = {
      name: spec.name,
      peerId: `fake-${spec.name}`,
      multiaddrs: () => [],
      stop: async () => { alive.delete(spec.index); controller.abort(); await running },
      kill: async () => { alive.delete(spec.index); controller.abort(); await running },
      partition: async () => {},
      heal: async () => {},
      connections: () => alive.size - 1,
      requestCounts: () => ({ total: requests, scopes }),
      verifyLogs: async () => ({ peer: spec.name, ok: true, entries: handled })
    }
    return node
  }
}
