/** A report with every kind of mark on it (runs, a takeover, claims, faults), for the output tests. */
import type { SimEvent } from './events.js'
import { buildReport, type Report } from './metrics.js'

export function sampleReport (tasks = 6): Report {
  const names = Array.from({ length: tasks }, (_, i) => `org/tasks#${i + 1}`)
  const events: SimEvent[] = []
  names.forEach((task, i) => {
    const peer = `peer-${i % 3}`
    events.push({ t: 100 * i, kind: 'task_seen', task, peer: 'peer-0' })
    events.push({ t: 100 * i + 20 + i, kind: 'claim_posted', task, peer })
    events.push({ t: 100 * i + 30, kind: 'claim_posted', task, peer: 'peer-4' })
    events.push({ t: 100 * i + 2100, kind: 'claim_won', task, peer, attempt: 1 })
    events.push({ t: 100 * i + 2200, kind: 'agent_started', task, peer })
    if (i === 0) {
      events.push({ t: 3000, kind: 'fault_start', fault: 'kill', detail: peer, peer, task })
      events.push({ t: 9000, kind: 'claim_posted', task, peer: 'peer-3' })
      events.push({ t: 9500, kind: 'claim_won', task, peer: 'peer-3', attempt: 2 })
      events.push({ t: 9600, kind: 'agent_started', task, peer: 'peer-3' })
      events.push({ t: 10_600, kind: 'agent_finished', task, peer: 'peer-3', ok: true })
      events.push({ t: 10_700, kind: 'published', task, peer: 'peer-3', outcome: 'done', url: 'http://x/pull/1' })
    } else {
      events.push({ t: 100 * i + 3200, kind: 'agent_finished', task, peer, ok: i !== 2 })
      events.push({ t: 100 * i + 3300, kind: 'published', task, peer, outcome: i === 2 ? 'failed' : 'done', url: `http://x/${i}` })
    }
  })
  events.push({ t: 4000, kind: 'fault_start', fault: 'partition', detail: 'peer-0,peer-1 | peer-2,peer-3' })
  events.push({ t: 6000, kind: 'fault_end', fault: 'partition', detail: 'peer-0,peer-1 | peer-2,peer-3' })
  const publications = Object.fromEntries(names.map((t, i) => [t, { pulls: i === 2 ? 0 : 1, issues: 0, reports: i === 2 ? 1 : 0 }]))
  return buildReport({
    scenario: { name: 'sample', seed: 1, transport: 'memory', peers: 5, goals: { recoveryMs: 15_000 } },
    events,
    facts: { tasks: names, publications, requests: { total: 40, perTaskScope: {}, idlePerRepoPerHour: 60 } },
    logs: [{ peer: 'peer-0', ok: true, entries: 12 }],
    peakRssMb: 210.4,
    wallMs: 11_000,
    secretsFound: []
  })
}
