/**
 * Live progress: a pure fold of the events into counts, and a renderer that rewrites one
 * line with a bar on a terminal, or prints a plain line (at most every `everyMs`) otherwise.
 */
import type { SimEvent } from './events.js'

export interface Progress {
  peersUp: number
  peersDown: number
  announced: number
  claimed: number
  running: number
  done: number
  failed: number
  total: number
  faults: number
}

export interface ProgressState {
  peers: Map<string, boolean>
  announced: Set<string>
  claimed: Set<string>
  /** Tasks being worked on, and by whom: from the holder's start until the task is published. */
  running: Map<string, string>
  ended: Map<string, 'done' | 'failed'>
  faults: number
}

export function emptyProgress (): ProgressState {
  return { peers: new Map(), announced: new Set(), claimed: new Set(), running: new Map(), ended: new Map(), faults: 0 }
}

/** Folds one event in (mutates `s`, returns it). */
export function foldProgress (s: ProgressState, e: SimEvent): ProgressState {
  switch (e.kind) {
    case 'peer_up': s.peers.set(e.peer, true); break
    case 'peer_down': {
      s.peers.set(e.peer, false)
      for (const [task, peer] of s.running) if (peer === e.peer) s.running.delete(task)
      break
    }
    case 'task_seen': s.announced.add(e.task); break
    case 'claim_won': {
      s.claimed.add(e.task)
      // A new holder (a takeover) has not started yet.
      if (s.running.get(e.task) !== e.peer) s.running.delete(e.task)
      break
    }
    case 'work_started':
    case 'agent_started': if (!s.ended.has(e.task)) s.running.set(e.task, e.peer); break
    case 'published': s.ended.set(e.task, s.ended.get(e.task) === 'done' ? 'done' : e.outcome); s.running.delete(e.task); break
    case 'fault_start': s.faults += 1; break
    default: break
  }
  return s
}

export function summarise (s: ProgressState, total: number): Progress {
  const up = [...s.peers.values()].filter(Boolean).length
  const ended = [...s.ended.values()]
  return {
    peersUp: up,
    peersDown: s.peers.size - up,
    announced: s.announced.size,
    claimed: s.claimed.size,
    running: s.running.size,
    done: ended.filter((x) => x === 'done').length,
    failed: ended.filter((x) => x === 'failed').length,
    total,
    faults: s.faults
  }
}

export function progressLine (p: Progress, elapsedMs: number, barWidth = 0): string {
  const finished = p.done + p.failed
  const pct = p.total === 0 ? 100 : Math.floor((finished / p.total) * 100)
  const filled = p.total === 0 ? barWidth : Math.round((finished / p.total) * barWidth)
  const bar = barWidth > 0 ? `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ` : ''
  return `${(elapsedMs / 1000).toFixed(1).padStart(6)}s ${bar}${String(pct).padStart(3)}% ` +
    `peers ${p.peersUp}${p.peersDown > 0 ? ` (+${p.peersDown} down)` : ''} · tasks ${p.total}: ` +
    `${p.announced} announced, ${p.claimed} claimed, ${p.running} running, ${p.done} done, ${p.failed} failed` +
    `${p.faults > 0 ? ` · ${p.faults} fault(s)` : ''}`
}

export interface ProgressView {
  update: (p: Progress, elapsedMs: number) => void
  /** A line of its own (a fault, a kill), above the bar. */
  note: (text: string, elapsedMs: number) => void
  end: () => void
}

export function createProgressView (init: { out: NodeJS.WritableStream & { isTTY?: boolean, columns?: number }, everyMs?: number }): ProgressView {
  const tty = init.out.isTTY === true
  const everyMs = init.everyMs ?? 2000
  let last = ''
  let lastAt = -Infinity
  let drawn = false
  return {
    update (p, elapsedMs) {
      if (tty) {
        const width = Math.max(10, Math.min(40, (init.out.columns ?? 100) - 110))
        const line = progressLine(p, elapsedMs, width).slice(0, Math.max(20, (init.out.columns ?? 200) - 1))
        init.out.write(`\r\x1b[2K${line}`)
        drawn = true
        return
      }
      const line = progressLine(p, 0)
      if (line === last || elapsedMs - lastAt < everyMs) return
      last = line
      lastAt = elapsedMs
      init.out.write(`${progressLine(p, elapsedMs)}\n`)
    },
    note (text, elapsedMs) {
      const line = `${(elapsedMs / 1000).toFixed(1).padStart(6)}s ${text}`
      init.out.write(tty && drawn ? `\r\x1b[2K${line}\n` : `${line}\n`)
    },
    end () {
      if (tty && drawn) init.out.write('\n')
    }
  }
}
