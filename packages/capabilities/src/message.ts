import { DEFAULT_MAX_MESSAGE_BYTES, formatTimestamp } from '@bzzz/protocol'
import type { CapabilitiesMessage, Gpu, PresencePingMessage } from '@bzzz/protocol'
import { round1 } from './load.js'
import type { CapabilitySnapshot } from './types.js'

// Limits of the `capabilities` schema in @bzzz/protocol.
const MAX_NAME = 256
const MAX_MODELS = 512
const MAX_CLIS = 128
const MAX_GPUS = 64
const MAX_SLOTS = 1024

function percent (n: number | undefined): number {
  return n === undefined || !Number.isFinite(n) ? 0 : round1(Math.min(100, Math.max(0, n)))
}

function mb (n: number): number {
  return Number.isFinite(n) ? Math.max(0, Math.round(n)) : 0
}

/** Names that fit the schema (1 to 256 characters), once each, at most `max`. */
function names (list: Iterable<string>, max: number): string[] {
  const out: string[] = []
  const seen = new Set<string>()
  for (const n of list) {
    if (n.length === 0 || n.length > MAX_NAME || seen.has(n)) continue
    seen.add(n)
    out.push(n)
    if (out.length === max) break
  }
  return out
}

function cut (s: string, max: number): string {
  return s.length > max ? s.slice(0, max) : s
}

function slot (n: number | undefined): number | undefined {
  return n === undefined || !Number.isInteger(n) || n < 0 ? undefined : Math.min(MAX_SLOTS, n)
}

function byteLength (msg: CapabilitiesMessage): number {
  return Buffer.byteLength(JSON.stringify(msg), 'utf8')
}

export interface ToMessageOptions {
  /** The message's time, ms since the epoch. Default now. */
  now?: number
  /** Largest encoded size; lists are shortened to fit. Default the protocol's 64 KiB. */
  maxBytes?: number
}

/**
 * The `capabilities` message for a snapshot: `cpu`, `gpu` (the busiest GPU's utilisation,
 * 0 without a GPU), `models` (installed Ollama models), `installed` (CLIs found and
 * answering), `status`, plus memory, each GPU, loaded models, CLI versions and slots.
 * Everything is brought within the schema's limits, and lists are shortened (loaded models
 * first, then versions, then models) until the encoded message fits `maxBytes`.
 */
export function toCapabilitiesMessage (s: CapabilitySnapshot, options: ToMessageOptions = {}): CapabilitiesMessage {
  const gpus: Gpu[] = s.gpus.gpus.slice(0, MAX_GPUS).map((g) => {
    const out: Gpu = { name: cut(g.name, MAX_NAME) }
    if (g.util !== undefined) out.util = percent(g.util)
    if (g.memTotalMb !== undefined) out.mem_total_mb = mb(g.memTotalMb)
    // The message has no free figure: peers read free as total − used. Where free is known, send
    // total − free as used (it counts the memory the driver reserves), so that they compute the
    // same free memory as this peer's snapshot and `satisfies` answers alike on both.
    const used = g.memTotalMb !== undefined && g.memFreeMb !== undefined ? Math.max(0, g.memTotalMb - g.memFreeMb) : g.memUsedMb
    if (used !== undefined) out.mem_used_mb = mb(used)
    return out
  })
  const utils = s.gpus.gpus.map((g) => g.util).filter((u): u is number => u !== undefined)
  const available = s.clis.filter((c) => c.available)
  const versions: Record<string, string> = {}
  for (const c of available) {
    if (c.version !== undefined && c.name.length <= MAX_NAME) versions[c.name] = cut(c.version, MAX_NAME)
  }
  const msg: CapabilitiesMessage = {
    type: 'capabilities',
    node_id: s.nodeId,
    cpu: percent(s.load.cpu),
    gpu: percent(utils.length > 0 ? Math.max(...utils) : 0),
    models: s.ollama.available ? names(s.ollama.models.map((m) => m.name), MAX_MODELS) : [],
    installed: names(available.map((c) => c.name), MAX_CLIS),
    status: s.status,
    timestamp: formatTimestamp(options.now ?? Date.now()),
    mem: percent(s.load.mem),
    mem_free_mb: mb(s.load.memFreeMb),
    gpus
  }
  if (s.ollama.available) msg.loaded_models = names(s.ollama.loaded.map((m) => m.name), MAX_MODELS)
  if (Object.keys(versions).length > 0) msg.versions = versions
  const free = slot(s.slotsFree); if (free !== undefined) msg.slots_free = free
  const total = slot(s.slotsTotal); if (total !== undefined) msg.slots_total = total
  if (s.name !== undefined && s.name.length > 0) msg.name = cut(s.name, MAX_NAME)

  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  while (byteLength(msg) > maxBytes) {
    if (msg.loaded_models !== undefined && msg.loaded_models.length > 0) {
      msg.loaded_models = msg.loaded_models.slice(0, Math.floor(msg.loaded_models.length / 2))
    } else if (msg.versions !== undefined) {
      delete msg.versions
    } else if (msg.models.length > 0) {
      msg.models = msg.models.slice(0, Math.floor(msg.models.length / 2))
    } else if (msg.gpus !== undefined && msg.gpus.length > 0) {
      msg.gpus = msg.gpus.slice(0, Math.floor(msg.gpus.length / 2))
    } else if (msg.installed.length > 0) {
      msg.installed = msg.installed.slice(0, Math.floor(msg.installed.length / 2))
    } else {
      break
    }
  }
  return msg
}

export interface ToPresenceOptions {
  /** Task keys held now, e.g. `owner/repo#42`. Default none. */
  activeTasks?: string[]
  /** An increasing sequence number. */
  seq?: number
  now?: number
}

/** The lightweight `presence_ping` for a snapshot: status, load and free slots. */
export function toPresencePing (s: CapabilitySnapshot, options: ToPresenceOptions = {}): PresencePingMessage {
  const utils = s.gpus.gpus.map((g) => g.util).filter((u): u is number => u !== undefined)
  const msg: PresencePingMessage = {
    type: 'presence_ping',
    node_id: s.nodeId,
    status: s.status,
    load: { cpu: percent(s.load.cpu), mem: percent(s.load.mem) },
    active_tasks: options.activeTasks ?? [],
    timestamp: formatTimestamp(options.now ?? Date.now())
  }
  if (utils.length > 0) msg.load.gpu = percent(Math.max(...utils))
  const free = slot(s.slotsFree); if (free !== undefined) msg.slots_free = free
  if (options.seq !== undefined) msg.seq = options.seq
  return msg
}
