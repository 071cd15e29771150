import { findExecutable, firstLine, runCommand } from './exec.js'
import type { Absence, OllamaLoadedModel, OllamaModel, OllamaState } from './types.js'

export const DEFAULT_OLLAMA_HOST = 'http://127.0.0.1:11434'
const MAX_BODY_BYTES = 8 * 1024 * 1024

/**
 * The base URL to ask, from a host written as Ollama's `OLLAMA_HOST` is (`127.0.0.1`,
 * `0.0.0.0:11434`, `http://gpu-box:11434`, `https://example.com/ollama`): scheme `http`
 * and port 11434 unless given (443 for `https`), and a bind-all address (`0.0.0.0`, `::`)
 * asked on loopback. No trailing slash. Throws `TypeError` on an unparseable host.
 */
export function ollamaBaseUrl (host: string | undefined): string {
  const trimmed = (host ?? '').trim()
  if (trimmed.length === 0) return DEFAULT_OLLAMA_HOST
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`
  const url = new URL(withScheme)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported scheme ${url.protocol}`)
  if (url.port === '' && url.protocol === 'http:') url.port = '11434'
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1'
  if (url.hostname === '[::]') url.hostname = '[::1]'
  const path = url.pathname.replace(/\/+$/, '')
  return `${url.protocol}//${url.host}${path}`
}

function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function str (v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined
}

function num (v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined
}

function modelEntries (body: unknown): unknown[] | undefined {
  if (!isRecord(body)) return undefined
  if (body.models === null) return [] // an empty list is sometimes sent as null
  return Array.isArray(body.models) ? body.models : undefined
}

/** The installed models in a `/api/tags` body; `undefined` when it is not one. Unnamed entries are skipped. */
export function parseTags (body: unknown): OllamaModel[] | undefined {
  const entries = modelEntries(body)
  if (entries === undefined) return undefined
  const models: OllamaModel[] = []
  for (const e of entries) {
    if (!isRecord(e)) continue
    const name = str(e.name) ?? str(e.model)
    if (name === undefined) continue
    const details = isRecord(e.details) ? e.details : {}
    const m: OllamaModel = { name }
    const size = num(e.size); if (size !== undefined) m.size = size
    const digest = str(e.digest); if (digest !== undefined) m.digest = digest
    const modifiedAt = str(e.modified_at); if (modifiedAt !== undefined) m.modifiedAt = modifiedAt
    const family = str(details.family); if (family !== undefined) m.family = family
    const ps = str(details.parameter_size); if (ps !== undefined) m.parameterSize = ps
    const q = str(details.quantization_level); if (q !== undefined) m.quantizationLevel = q
    models.push(m)
  }
  return models
}

/** The loaded models in a `/api/ps` body; `undefined` when it is not one. */
export function parsePs (body: unknown): OllamaLoadedModel[] | undefined {
  const entries = modelEntries(body)
  if (entries === undefined) return undefined
  const models: OllamaLoadedModel[] = []
  for (const e of entries) {
    if (!isRecord(e)) continue
    const name = str(e.name) ?? str(e.model)
    if (name === undefined) continue
    const m: OllamaLoadedModel = { name }
    const size = num(e.size); if (size !== undefined) m.size = size
    const vram = num(e.size_vram); if (vram !== undefined) m.sizeVram = vram
    const exp = str(e.expires_at); if (exp !== undefined) m.expiresAt = exp
    models.push(m)
  }
  return models
}

/**
 * Model names from the table `ollama list` or `ollama ps` prints
 * (`NAME  ID  SIZE  MODIFIED` then one row per model). Model names hold no spaces.
 */
export function parseOllamaTable (text: string): string[] {
  const names: string[] = []
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line.length === 0) continue
    const first = line.split(/\s+/)[0] ?? ''
    if (first === 'NAME') continue
    if (first.length > 0) names.push(first)
  }
  return names
}

type FetchLike = (input: string, init: { signal: AbortSignal, headers?: Record<string, string> }) => Promise<Response>

type JsonResult = { ok: true, body: unknown } | { ok: false, absence: Absence }

function errorCode (err: unknown): string | undefined {
  let e: unknown = err
  for (let i = 0; i < 4 && isRecord(e); i++) {
    const code = e.code
    if (typeof code === 'string') return code
    e = e.cause
  }
  return undefined
}

async function readCapped (res: Response): Promise<string> {
  if (res.body === null) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > MAX_BODY_BYTES) {
      await reader.cancel()
      throw new Error(`response larger than ${MAX_BODY_BYTES} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

async function getJson (url: string, fetchFn: FetchLike, timeoutMs: number, signal: AbortSignal | undefined): Promise<JsonResult> {
  const timeout = AbortSignal.timeout(timeoutMs)
  const combined = signal === undefined ? timeout : AbortSignal.any([timeout, signal])
  try {
    const res = await fetchFn(url, { signal: combined, headers: { accept: 'application/json' } })
    if (!res.ok) {
      await res.body?.cancel()
      return { ok: false, absence: { reason: 'failed', detail: `HTTP ${res.status} from ${url}` } }
    }
    const text = await readCapped(res)
    try {
      return { ok: true, body: JSON.parse(text) as unknown }
    } catch {
      return { ok: false, absence: { reason: 'failed', detail: `${url} did not answer JSON` } }
    }
  } catch (err) {
    if (signal?.aborted === true) throw signal.reason
    if (timeout.aborted) return { ok: false, absence: { reason: 'timed-out', detail: `no answer from ${url} within ${timeoutMs} ms` } }
    const code = errorCode(err)
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') {
      return { ok: false, absence: { reason: 'not-running', detail: `nothing answers at ${url} (${code})` } }
    }
    return { ok: false, absence: { reason: 'failed', detail: `${url}: ${code ?? (err instanceof Error ? err.message : String(err))}` } }
  }
}

export interface ProbeOllamaOptions {
  /** Base URL, as made by `ollamaBaseUrl`. */
  baseUrl: string
  env: NodeJS.ProcessEnv
  /** Limit for each HTTP request and for each `ollama` command. */
  timeoutMs: number
  /** The `ollama` executable to fall back on. Default `ollama` on the PATH. */
  command?: string
  fetch?: FetchLike
  signal?: AbortSignal
}

/**
 * Installed and loaded models: `/api/tags` and `/api/ps` on the HTTP API, at once; if the
 * API cannot be used, `ollama list` and `ollama ps`. Neither: absent, with both reasons.
 */
export async function probeOllama (options: ProbeOllamaOptions): Promise<OllamaState> {
  const fetchFn = options.fetch ?? (globalThis.fetch as FetchLike)
  const host = options.baseUrl
  const [tags, ps] = await Promise.all([
    getJson(`${host}/api/tags`, fetchFn, options.timeoutMs, options.signal),
    getJson(`${host}/api/ps`, fetchFn, options.timeoutMs, options.signal)
  ])
  let api: Absence
  if (tags.ok) {
    const models = parseTags(tags.body)
    if (models !== undefined) {
      const loaded = ps.ok ? parsePs(ps.body) : undefined
      if (loaded !== undefined) return { available: true, source: 'api', host, models, loaded }
      const apiAbsence = ps.ok ? { reason: 'failed' as const, detail: `${host}/api/ps did not answer a model list` } : ps.absence
      return { available: true, source: 'api', host, models, loaded: [], apiAbsence }
    }
    api = { reason: 'failed', detail: `${host}/api/tags did not answer a model list` }
  } else {
    api = tags.absence
  }

  const command = options.command ?? 'ollama'
  const path = await findExecutable(command, options.env)
  if (path === undefined) {
    const cli: Absence = { reason: 'not-installed', detail: `${command} is not on the PATH` }
    const absence: Absence = api.reason === 'not-running'
      ? { reason: 'not-installed', detail: `Ollama is not installed (${command} is not on the PATH) and ${api.detail}` }
      : api
    return { available: false, host, absence, api, cli }
  }
  const run = { env: options.env, timeoutMs: options.timeoutMs, ...(options.signal !== undefined ? { signal: options.signal } : {}) }
  const [list, running] = await Promise.all([runCommand(path, ['list'], run), runCommand(path, ['ps'], run)])
  if (list.kind === 'exited' && list.code === 0) {
    const models = parseOllamaTable(list.stdout).map((name) => ({ name }))
    const loaded = running.kind === 'exited' && running.code === 0 ? parseOllamaTable(running.stdout).map((name) => ({ name })) : []
    return { available: true, source: 'cli', host, models, loaded, apiAbsence: api }
  }
  let cli: Absence
  if (list.kind === 'timed-out') cli = { reason: 'timed-out', detail: `ollama list gave no answer within ${options.timeoutMs} ms` }
  else if (list.kind === 'spawn-failed') cli = { reason: 'failed', detail: `could not start ${path}: ${list.error}` }
  else {
    const said = firstLine(list.stderr.length > 0 ? list.stderr : list.stdout)
    const why = list.code === null ? `killed by ${list.signal ?? 'a signal'}` : `exit code ${list.code}`
    cli = { reason: 'failed', detail: `ollama list: ${said.length > 0 ? `${why}: ${said}` : why}` }
  }
  return { available: false, host, absence: api, api, cli }
}
