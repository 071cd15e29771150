/** Small inline-SVG chart builders for the HTML report (no library, no network). Pure. */
import type { Report } from './metrics.js'

export function esc (s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** A stable colour per peer. */
export function peerColour (peer: string, peers: readonly string[]): string {
  const i = Math.max(0, peers.indexOf(peer))
  const hue = Math.round((i * 137.508) % 360)
  return `hsl(${hue} 65% 45%)`
}

/**
 * Every task as a row across time: a bar per agent run (coloured by peer; hatched outline when
 * it is a takeover, i.e. not the task's first run), a tick per claim posted (filled when it
 * won), a dot per publication, and each fault as a shaded band with its name.
 */
export function timelineSvg (r: Report): string {
  const peers = [...new Set(r.tasks.flatMap((t) => [...t.runs.map((x) => x.peer), ...t.claims.map((c) => c.peer)]))].sort()
  const end = Math.max(1, r.wall_ms, ...r.tasks.flatMap((t) => [...t.runs.map((x) => x.end ?? x.start), ...t.published.map((p) => p.t)]))
  const rowH = Math.max(2, Math.min(16, Math.floor(800 / Math.max(1, r.tasks.length))))
  const left = 60
  const width = 1000
  const top = 20
  const height = top + rowH * r.tasks.length + 30
  const x = (t: number): number => left + (t / end) * (width - left - 10)
  const parts: string[] = []
  for (const f of r.faults) {
    const x0 = x(f.start)
    const x1 = f.end === null ? x0 + 2 : Math.max(x0 + 2, x(f.end))
    parts.push(`<rect class="fault" x="${x0.toFixed(1)}" y="${top}" width="${(x1 - x0).toFixed(1)}" height="${rowH * r.tasks.length}" fill="#d33" fill-opacity="0.15"><title>${esc(`${f.fault} ${f.detail}`)}</title></rect>`)
    parts.push(`<text x="${x0.toFixed(1)}" y="${top - 6}" font-size="11" fill="#b22">${esc(f.fault)}</text>`)
  }
  r.tasks.forEach((t, i) => {
    const y = top + i * rowH
    const label = t.task.includes('#') ? `#${t.task.split('#').pop() ?? ''}` : t.task
    if (rowH >= 10) parts.push(`<text x="${left - 6}" y="${y + rowH - 3}" font-size="10" text-anchor="end">${esc(label)}</text>`)
    t.runs.forEach((run, k) => {
      const x0 = x(run.start)
      const x1 = Math.max(x0 + 1.5, x(run.end ?? end))
      const takeover = k > 0 ? ' stroke="#000" stroke-dasharray="2 1"' : ''
      const cls = k > 0 ? 'run takeover' : 'run'
      parts.push(`<rect class="${cls}" x="${x0.toFixed(1)}" y="${y + 1}" width="${(x1 - x0).toFixed(1)}" height="${Math.max(1, rowH - 2)}" fill="${peerColour(run.peer, peers)}"${takeover}><title>${esc(`${t.task} on ${run.peer}${run.ok === false ? ' (failed)' : ''}`)}</title></rect>`)
    })
    for (const c of t.claims) {
      parts.push(`<line class="claim${c.won ? ' won' : ''}" x1="${x(c.t).toFixed(1)}" x2="${x(c.t).toFixed(1)}" y1="${y}" y2="${y + rowH}" stroke="${c.won ? '#000' : '#999'}" stroke-width="1"><title>${esc(`claim by ${c.peer}${c.won ? ' (won)' : ''}`)}</title></line>`)
    }
    for (const p of t.published) {
      parts.push(`<circle class="published" cx="${x(p.t).toFixed(1)}" cy="${y + rowH / 2}" r="${Math.max(1, rowH / 3).toFixed(1)}" fill="${p.outcome === 'done' ? '#1a7f37' : '#cf222e'}"><title>${esc(`${p.outcome} by ${p.peer}`)}</title></circle>`)
    }
  })
  const axisY = top + rowH * r.tasks.length + 14
  for (let k = 0; k <= 10; k++) {
    const t = (end * k) / 10
    parts.push(`<text x="${x(t).toFixed(1)}" y="${axisY}" font-size="10" text-anchor="${k === 10 ? 'end' : k === 0 ? 'start' : 'middle'}">${(t / 1000).toFixed(1)}s</text>`)
  }
  const legend = peers.slice(0, 20).map((p, i) => `<span class="legend"><i style="background:${peerColour(p, peers)}"></i>${esc(p)}</span>${i === 19 && peers.length > 20 ? ` … ${peers.length - 20} more` : ''}`).join(' ')
  return `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="task timeline">${parts.join('')}</svg><div class="legends">${legend}</div>`
}

/** A histogram of a latency sample, with p50 and p99 marked. */
export function histogramSvg (id: string, title: string, values: readonly number[], p50: number | null, p99: number | null): string {
  const width = 480
  const height = 200
  const pad = 30
  if (values.length === 0) return `<svg id="${id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}"><text x="10" y="20">${esc(title)}: no samples</text></svg>`
  const max = Math.max(...values, 1)
  const bins = Math.min(30, Math.max(5, Math.ceil(Math.sqrt(values.length))))
  const counts = new Array<number>(bins).fill(0)
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v / max) * bins))]! += 1
  const top = Math.max(...counts)
  const bw = (width - 2 * pad) / bins
  const parts = counts.map((c, i) => {
    const h = (c / top) * (height - 2 * pad)
    return `<rect class="bar" x="${(pad + i * bw).toFixed(1)}" y="${(height - pad - h).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#0969da"><title>${Math.round((i * max) / bins)}–${Math.round(((i + 1) * max) / bins)} ms: ${c}</title></rect>`
  })
  const marker = (v: number | null, name: string): string => {
    if (v === null) return ''
    const px = pad + (v / max) * (width - 2 * pad)
    return `<line class="marker" x1="${px.toFixed(1)}" x2="${px.toFixed(1)}" y1="${pad - 8}" y2="${height - pad}" stroke="#cf222e" stroke-dasharray="3 2"/><text x="${px.toFixed(1)}" y="${pad - 10}" font-size="10" text-anchor="middle" fill="#cf222e">${name} ${v}</text>`
  }
  return `<svg id="${id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" role="img" aria-label="${esc(title)}">` +
    `<text x="${pad}" y="14" font-size="12" font-weight="bold">${esc(title)}</text>${parts.join('')}` +
    `<line x1="${pad}" x2="${width - pad}" y1="${height - pad}" y2="${height - pad}" stroke="#333"/>` +
    `<text x="${pad}" y="${height - 10}" font-size="10">0</text><text x="${width - pad}" y="${height - 10}" font-size="10" text-anchor="end">${max} ms</text>` +
    `${marker(p50, 'p50')}${marker(p99, 'p99')}</svg>`
}
