/** The report as a terminal table. Pure. */
import type { Check, Report } from './metrics.js'
import type { Distribution } from './percentile.js'

const ms = (d: Distribution): string => (d.count === 0 ? 'n/a' : `p50 ${d.p50} ms, p99 ${d.p99} ms (n=${d.count})`)
const mark = (c: Check): string => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`

export function formatTable (r: Report): string {
  const rows: Array<[string, string]> = [
    ['scenario', `${r.scenario} (seed ${r.seed}, ${r.peers} peers, ${r.transport})`],
    ['wall time', `${(r.wall_ms / 1000).toFixed(1)} s`],
    ['tasks', `${r.tasks_total} total, ${r.tasks_done} done, ${r.tasks_failed} failed, ${r.lost_tasks} lost`],
    ['duplicates', `${r.duplicate_executions} executions, ${r.duplicate_publications} publications`],
    ['claim decision', ms(r.claim_decision_ms)],
    ['claim latency', ms(r.claim_latency_ms)],
    ['tasks per second', r.tasks_per_second === null ? 'n/a' : String(r.tasks_per_second)],
    ['GitHub requests', `${r.github_requests.total} counted, ${r.github_requests.per_task ?? 'n/a'} per task (${r.github_requests.per_task_scoped ?? 'n/a'} in task scopes), idle ${r.github_requests.idle_per_repo_per_hour ?? 'n/a'}/repo/h`],
    ['peak memory', `${r.peak_rss_mb} MB RSS`],
    ['logs', `${r.logs.filter((l) => l.ok).length}/${r.logs.length} verified`]
  ]
  for (const rec of r.recovery_ms) rows.push([`recovery (${rec.fault})`, `${rec.detail}: ${rec.ms === null ? 'never' : `${rec.ms} ms`}`])
  const width = Math.max(...rows.map(([k]) => k.length))
  const lines = rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)
  const checks = [...r.invariants, ...r.goals].map((c) => `  ${mark(c)}`)
  return [
    `Report: ${r.ok ? 'PASS' : 'FAIL'}`,
    ...lines,
    '',
    'Invariants and goals',
    ...checks
  ].join('\n')
}
