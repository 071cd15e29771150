// The web dashboard: one page, no build step. Peers (capabilities, liveness), tasks (state,
// holder, attempt, pull request), each running agent's live progress, and the event feed,
// kept current from /api/peers, /api/tasks and the /api/events stream.
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>bzzz</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .3em; } h2 { font-size: 1.05em; margin: 1.4em 0 .4em; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
  th { background: #f4f4f4; }
  .alive { color: #0a0; } .suspect { color: #c80; } .dead { color: #c00; }
  .done { color: #0a0; } .failed { color: #c00; } .running, .claimed { color: #06c; }
  #feed { max-height: 20em; overflow: auto; font: 12px ui-monospace, monospace; background: #fafafa; padding: .5em; }
  code { font-size: 12px; }
</style>
</head>
<body>
<h1>bzzz <span id="self"></span></h1>
<div id="summary"></div>
<h2>Peers</h2>
<table id="peers"><thead><tr><th>peer</th><th>name</th><th>liveness</th><th>status</th><th>load</th><th>slots</th><th>agents / models</th><th>tasks</th></tr></thead><tbody></tbody></table>
<h2>Tasks</h2>
<table id="tasks"><thead><tr><th>task</th><th>title</th><th>state</th><th>holder</th><th>attempt</th><th>result</th><th>progress</th></tr></thead><tbody></tbody></table>
<h2>Events</h2>
<div id="feed"></div>
<script>
const short = (id) => id ? '…' + id.slice(-8) : '-'
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
const progress = new Map()
let self = ''
async function get (path) { const r = await fetch(path); if (!r.ok) throw new Error(path + ': ' + r.status); return r.json() }
async function refresh () {
  try {
    const [status, peers, tasks] = await Promise.all([get('/api/status'), get('/api/peers'), get('/api/tasks')])
    self = status.nodeId
    document.getElementById('self').textContent = (status.name ? status.name + ' ' : '') + short(status.nodeId) + ' · ' + status.phase
    document.getElementById('summary').textContent = status.peers + ' connected · watching ' + (status.watching.join(', ') || 'nothing') + ' · slots ' + status.slots.free + '/' + status.slots.total
    document.querySelector('#peers tbody').innerHTML = peers.map((p) => '<tr data-node="' + esc(p.nodeId) + '"><td><code>' + esc(short(p.nodeId)) + '</code>' + (p.nodeId === self ? ' (this)' : '') + '</td><td>' + esc(p.name) + '</td><td class="liveness ' + esc(p.liveness) + '">' + esc(p.liveness) + '</td><td>' + esc(p.status) + '</td><td>' + esc(p.load ?? '') + '</td><td>' + esc(p.slotsFree ?? '') + '</td><td>' + esc([...p.installed, ...p.models].join(', ')) + '</td><td>' + esc(p.activeTasks.join(', ')) + '</td></tr>').join('')
    document.querySelector('#tasks tbody').innerHTML = tasks.map((t) => '<tr data-key="' + esc(t.key) + '"><td>' + (t.issueUrl ? '<a href="' + esc(t.issueUrl) + '">' + esc(t.key) + '</a>' : esc(t.key)) + '</td><td>' + esc(t.title) + '</td><td class="status ' + esc(t.status) + '">' + esc(t.status) + '</td><td><code>' + esc(short(t.holder)) + '</code></td><td>' + esc(t.attempt) + '</td><td class="result">' + (t.resultUrl ? '<a href="' + esc(t.resultUrl) + '">' + esc(t.resultType === 'pull_request' ? 'pull request' : t.resultType) + '</a>' : '') + '</td><td class="progress">' + esc(progress.get(t.key) ?? '') + '</td></tr>').join('')
  } catch (err) {
    document.getElementById('summary').textContent = 'daemon unreachable: ' + err.message
  }
}
function feed (name, data) {
  const line = document.createElement('div')
  line.className = 'event'
  line.dataset.event = name
  line.textContent = new Date().toISOString().slice(11, 19) + ' ' + name + ' ' + (data.key ?? data.nodeId ?? data.phase ?? '') + (data.url ? ' ' + data.url : '') + (data.event ? ' ' + data.event.text : '') + (data.node ? ' by ' + short(data.node) : '')
  const box = document.getElementById('feed')
  box.prepend(line)
  while (box.childElementCount > 300) box.lastElementChild.remove()
}
const events = new EventSource('/api/events')
for (const name of ['peer:seen', 'task:announced', 'task:claimed', 'task:running', 'task:progress', 'task:result', 'task:takeover', 'task:released', 'task:help', 'task:note', 'state', 'fault']) {
  events.addEventListener(name, (e) => {
    const data = JSON.parse(e.data)
    if (name === 'task:progress') progress.set(data.key, data.event.kind + ': ' + data.event.text)
    feed(name, data)
    refresh()
  })
}
refresh()
setInterval(refresh, 2000)
</script>
</body>
</html>
`
