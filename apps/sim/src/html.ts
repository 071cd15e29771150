/** The report as ONE self-contained HTML page: inline CSS and SVG, no script, no network. Pure. */
import type { Check, Report } from './metrics.js'
import { esc, histogramSvg, timelineSvg } from './svg.js'

const CSS = `body{font:14px system-ui,sans-serif;margin:24px;color:#1f2328}h1{margin:0 0 4px}
.pass{color:#1a7f37}.fail{color:#cf222e}table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;min-width:120px}
.card b{display:block;font-size:20px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}.legends{font-size:11px;margin:4px 0 16px}
.charts{display:flex;flex-wrap:wrap;gap:24px}`

const row = (c: Check): string => `<tr class="${c.ok ? 'pass' : 'fail'}"><td>${c.ok ? 'ok' : 'FAIL'}</td><td>${esc(c.name)}</td><td>${esc(c.detail)}</td></tr>`
const card = (label: string, value: string | number | null): string => `<div class="card">${esc(label)}<b>${esc(String(value ?? 'n/a'))}</b></div>`

export function renderHtml (r: Report): string {
  const recovery = r.recovery_ms.map((x) => `<tr><td>${esc(x.fault)}</td><td>${esc(x.detail)}</td><td>${x.ms === null ? 'never' : `${x.ms} ms`}</td></tr>`).join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Bzzz simulation: ${esc(r.scenario)}</title><style>${CSS}</style></head><body>
<h1>Bzzz simulation: ${esc(r.scenario)} <span class="${r.ok ? 'pass' : 'fail'}" id="verdict">${r.ok ? 'PASS' : 'FAIL'}</span></h1>
<div>seed ${r.seed} · ${r.peers} peers · transport ${esc(r.transport)} · ${(r.wall_ms / 1000).toFixed(1)} s</div>
<div class="cards">${card('tasks', r.tasks_total)}${card('done', r.tasks_done)}${card('failed', r.tasks_failed)}${card('lost', r.lost_tasks)}
${card('duplicate executions', r.duplicate_executions)}${card('duplicate publications', r.duplicate_publications)}
${card('claim decision p99 (ms)', r.claim_decision_ms.p99)}${card('claim latency p99 (ms)', r.claim_latency_ms.p99)}
${card('tasks/s', r.tasks_per_second)}${card('GitHub requests', r.github_requests.total)}${card('requests per task', r.github_requests.per_task)}
${card('idle requests/repo/h', r.github_requests.idle_per_repo_per_hour)}${card('peak RSS (MB)', r.peak_rss_mb)}${card('logs verified', r.logs_verified ? 'yes' : 'NO')}</div>
<h2>Invariants and goals</h2><table id="checks"><tr><th></th><th>check</th><th>detail</th></tr>${[...r.invariants, ...r.goals].map(row).join('')}</table>
<h2>Timeline</h2><p>One row per task. Bars: agent runs, coloured by peer (dashed outline: a takeover). Ticks: claims posted (black: won). Dots: publications (green done, red failed). Red bands: faults.</p>
${timelineSvg(r)}
<h2>Latency</h2><div class="charts">
${histogramSvg('claim-decision', 'claim decision: issue seen → claim posted (ms)', r.samples.claim_decision_ms, r.claim_decision_ms.p50, r.claim_decision_ms.p99)}
${histogramSvg('claim-latency', 'claim latency: issue seen → claim won (ms)', r.samples.claim_latency_ms, r.claim_latency_ms.p50, r.claim_latency_ms.p99)}
</div>
<h2>Recovery</h2><table id="recovery"><tr><th>fault</th><th>detail</th><th>time to recover</th></tr>${recovery}</table>
<h2>Logs</h2><table><tr><th>peer</th><th>entries</th><th>verified</th></tr>${r.logs.map((l) => `<tr><td>${esc(l.peer)}</td><td>${l.entries}</td><td>${l.ok ? 'yes' : esc(`NO: ${l.error ?? ''}`)}</td></tr>`).join('')}</table>
</body></html>
`
}
