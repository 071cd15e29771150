// Prometheus metrics of a node (prom-client): tasks by state, claim latency, agent durations,
// GitHub requests counted, mesh peers.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { BzzzNode } from './node.js'

export interface NodeMetrics {
  registry: Registry
  close: () => void
}

export function createMetrics (node: BzzzNode, options: { defaults?: boolean } = {}): NodeMetrics {
  const registry = new Registry()
  if (options.defaults !== false) collectDefaultMetrics({ register: registry, prefix: 'bzzz_process_' })
  new Gauge({
    name: 'bzzz_tasks',
    help: 'Tasks in this node\'s view, by state',
    labelNames: ['state'],
    registers: [registry],
    collect () {
      this.reset()
      for (const t of node.tasks()) this.inc({ state: t.status })
    }
  })
  new Gauge({
    name: 'bzzz_mesh_peers',
    help: 'Peers connected now',
    registers: [registry],
    collect () { this.set(node.status().peers) }
  })
  new Gauge({
    name: 'bzzz_peers',
    help: 'Peers in the ledger, by liveness',
    labelNames: ['liveness'],
    registers: [registry],
    collect () {
      this.reset()
      for (const p of node.peers()) this.inc({ liveness: p.liveness })
    }
  })
  new Gauge({
    name: 'bzzz_active_tasks',
    help: 'Tasks this node works on now',
    registers: [registry],
    collect () { this.set(node.status().active.length) }
  })
  new Gauge({
    name: 'bzzz_publishing_tasks',
    help: 'Of those, tasks whose agent has ended and whose result is being published (they hold no slot)',
    registers: [registry],
    collect () { this.set(node.status().publishing.length) }
  })
  let counted = 0
  let notModified = 0
  const requests = new Counter({
    name: 'bzzz_github_requests_total',
    help: 'GitHub requests: counted against the rate limit, or free 304s',
    labelNames: ['kind'],
    registers: [registry],
    collect () {
      const c = node.client.requestCounts().total
      if (c.counted > counted) requests.inc({ kind: 'counted' }, c.counted - counted)
      if (c.notModified > notModified) requests.inc({ kind: 'not_modified' }, c.notModified - notModified)
      counted = c.counted
      notModified = c.notModified
    }
  })
  const claimLatency = new Histogram({
    name: 'bzzz_claim_latency_seconds',
    help: 'From a task\'s announcement (or offer) to this node winning its claim',
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 300, 1800],
    registers: [registry]
  })
  const agentDuration = new Histogram({
    name: 'bzzz_agent_duration_seconds',
    help: 'From this node starting work on a task to its result',
    labelNames: ['result'],
    buckets: [1, 5, 15, 60, 300, 900, 1800, 3600],
    registers: [registry]
  })
  const results = new Counter({ name: 'bzzz_results_total', help: 'Results this node published', labelNames: ['type'], registers: [registry] })
  const announced = new Map<string, number>()
  const running = new Map<string, number>()
  const onAnnounced = ({ key }: { key: string }): void => { if (!announced.has(key)) announced.set(key, Date.now()) }
  const onClaimed = ({ key, self }: { key: string, self: boolean }): void => {
    if (!self) return
    const at = announced.get(key)
    if (at !== undefined) claimLatency.observe((Date.now() - at) / 1000)
  }
  const onRunning = ({ key, self }: { key: string, self: boolean }): void => { if (self) running.set(key, Date.now()) }
  const onResult = ({ key, self, type }: { key: string, self: boolean, type: string }): void => {
    if (!self) return
    results.inc({ type })
    const at = running.get(key)
    if (at !== undefined) agentDuration.observe({ result: type }, (Date.now() - at) / 1000)
    running.delete(key)
  }
  node.on('task:announced', onAnnounced)
  node.on('task:claimed', onClaimed)
  node.on('task:running', onRunning)
  node.on('task:result', onResult)
  return {
    registry,
    close: () => {
      node.off('task:announced', onAnnounced)
      node.off('task:claimed', onClaimed)
      node.off('task:running', onRunning)
      node.off('task:result', onResult)
    }
  }
}
