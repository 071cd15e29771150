// Loading the configuration: the YAML file, then `BZZZ_*` environment variables over it,
// validated against the schema (each error names the setting and what it expects), then the
// defaults for everything left unset.
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { parse as parseYaml, YAMLParseError } from 'yaml'
import { ConfigSchema, type Config, type ConfigFile } from './config-schema.js'
import { ConfigFileError, ConfigInvalidError, type ConfigIssue } from './errors.js'

const validator = Compile(ConfigSchema)

/** The default data directory: systemd's `STATE_DIRECTORY`, else `$XDG_DATA_HOME/bzzz`, else `~/.local/share/bzzz`. */
export function defaultDataDir (env: NodeJS.ProcessEnv = process.env): string {
  if (env.BZZZ_DATA_DIR !== undefined && env.BZZZ_DATA_DIR !== '') return resolve(env.BZZZ_DATA_DIR)
  if (env.STATE_DIRECTORY !== undefined && env.STATE_DIRECTORY !== '') return resolve(env.STATE_DIRECTORY.split(':')[0]!)
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'bzzz')
}

/** The default configuration file: `config.yaml` in the data directory. */
export function defaultConfigPath (env: NodeJS.ProcessEnv = process.env): string {
  return join(defaultDataDir(env), 'config.yaml')
}

/** Fills in every default. */
export function withDefaults (file: ConfigFile, env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(file.dataDir ?? defaultDataDir(env))
  return {
    name: file.name,
    dataDir,
    github: {
      apiUrl: file.github?.apiUrl ?? 'https://api.github.com',
      gitUrl: file.github?.gitUrl ?? 'https://github.com',
      tokenFile: file.github?.tokenFile,
      tokenEnv: file.github?.tokenEnv ?? 'GITHUB_TOKEN'
    },
    repos: file.repos ?? [],
    watch: {
      label: file.watch?.label ?? 'bzzz',
      trustedAssociations: file.watch?.trustedAssociations,
      intervalMs: file.watch?.intervalMs ?? 30_000,
      overlapMs: file.watch?.overlapMs ?? 300_000,
      reposRefreshMs: file.watch?.reposRefreshMs ?? 300_000
    },
    mesh: {
      name: file.mesh?.name ?? 'bzzz',
      transport: file.mesh?.transport ?? 'tcp',
      // A memory mesh (tests, one process) listens on a fresh /memory/ address of its own.
      listen: file.mesh?.listen ?? (file.mesh?.transport === 'memory' ? [] : ['/ip4/0.0.0.0/tcp/4001']),
      announce: file.mesh?.announce ?? [],
      bootstrap: file.mesh?.bootstrap ?? [],
      mdns: file.mesh?.mdns ?? false,
      dht: file.mesh?.dht ?? true,
      networkKeyFile: file.mesh?.networkKeyFile,
      allowlist: file.mesh?.allowlist
    },
    http: { host: file.http?.host ?? '127.0.0.1', port: file.http?.port ?? 7701, enabled: file.http?.enabled ?? true },
    agent: {
      kind: (file.agent?.kind ?? 'scripted') as Config['agent']['kind'],
      command: file.agent?.command,
      model: file.agent?.model,
      sandbox: file.agent?.sandbox ?? false,
      slots: file.agent?.slots ?? 1,
      offers: file.agent?.offers ?? [],
      escalate: file.agent?.escalate,
      steps: file.agent?.steps
    },
    capabilities: {
      detect: file.capabilities?.detect ?? true,
      installed: file.capabilities?.installed ?? [],
      models: file.capabilities?.models ?? [],
      ollamaHost: file.capabilities?.ollamaHost
    },
    git: { name: file.git?.name, email: file.git?.email },
    timings: {
      presenceMs: file.timings?.presenceMs ?? 2000,
      capabilitiesMs: file.timings?.capabilitiesMs ?? 30_000,
      tickMs: file.timings?.tickMs ?? 250,
      warmUpMs: file.timings?.warmUpMs,
      replicateMs: file.timings?.replicateMs ?? 60_000,
      leaseMs: file.timings?.leaseMs ?? 1_200_000,
      renewEveryMs: file.timings?.renewEveryMs,
      settleMs: file.timings?.settleMs ?? 2000,
      standbyStepMs: file.timings?.standbyStepMs ?? 1500,
      suspectAfterMs: file.timings?.suspectAfterMs,
      deadAfterMs: file.timings?.deadAfterMs,
      drainTimeoutMs: file.timings?.drainTimeoutMs ?? 25_000
    },
    log: { level: file.log?.level ?? 'info' }
  }
}

function snake (key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
}

interface Leaf { path: string[], schema: TSchema & { type?: string, anyOf?: unknown[] } }

function leaves (schema: TSchema, path: string[] = []): Leaf[] {
  const s = schema as TSchema & { type?: string, properties?: Record<string, TSchema> }
  if (s.type === 'object' && s.properties !== undefined) {
    return Object.entries(s.properties).flatMap(([k, v]) => leaves(v, [...path, k]))
  }
  return [{ path, schema: s }]
}

/** Every setting that an environment variable can set, by variable name (`BZZZ_HTTP__PORT` → http.port). */
export const ENV_SETTINGS: ReadonlyMap<string, Leaf> = new Map(
  leaves(ConfigSchema).map((leaf) => [`BZZZ_${leaf.path.map(snake).join('__')}`, leaf])
)

function convert (raw: string, schema: Leaf['schema']): unknown {
  switch (schema.type) {
    case 'integer':
    case 'number':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw
    case 'boolean':
      return /^(true|1|yes|on)$/i.test(raw) ? true : /^(false|0|no|off)$/i.test(raw) ? false : raw
    case 'array':
      if (raw.trim().startsWith('[')) {
        try { return JSON.parse(raw) as unknown } catch { return raw }
      }
      return raw.split(',').map((s) => s.trim()).filter((s) => s !== '')
    default:
      return raw
  }
}

/** Applies `BZZZ_*` variables over a configuration file's content. Returns a new object. */
export function applyEnv (file: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out = structuredClone(file)
  for (const [name, leaf] of ENV_SETTINGS) {
    const raw = env[name]
    if (raw === undefined) continue
    let target = out
    for (const key of leaf.path.slice(0, -1)) {
      const next = target[key]
      if (typeof next !== 'object' || next === null || Array.isArray(next)) target[key] = {}
      target = target[key] as Record<string, unknown>
    }
    target[leaf.path.at(-1)!] = convert(raw, leaf.schema)
  }
  return out
}

function dotted (instancePath: string): string {
  return instancePath.split('/').filter((s) => s !== '').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~')).join('.')
}

function describeValue (v: unknown): string {
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s
}

function valueAt (root: unknown, instancePath: string): unknown {
  let v = root
  for (const seg of instancePath.split('/').filter((s) => s !== '')) {
    if (typeof v !== 'object' || v === null) return undefined
    v = (v as Record<string, unknown>)[seg.replaceAll('~1', '/').replaceAll('~0', '~')]
  }
  return v
}

/** Checks a configuration object against the schema; throws `ConfigInvalidError` naming each bad setting. */
export function validateConfig (value: unknown, source: string): ConfigFile {
  if (value === null || value === undefined) return {}
  if (validator.Check(value)) return value
  const issues: ConfigIssue[] = []
  const seen = new Set<string>()
  for (const e of validator.Errors(value)) {
    if (e.keyword === 'boolean') continue // the additionalProperties error below says it better
    if (e.keyword === 'additionalProperties') {
      const names = (e.params as { additionalProperties: string[] }).additionalProperties
      for (const n of names) {
        const path = dotted(`${e.instancePath}/${n}`)
        if (!seen.has(path)) { seen.add(path); issues.push({ path, expected: 'is not a setting (misspelt?)' }) }
      }
      continue
    }
    const description = (e as { schemaPath: string }).schemaPath !== '' ? schemaDescription(e.schemaPath) : undefined
    const issue: ConfigIssue = {
      path: dotted(e.instancePath),
      expected: `${description !== undefined ? `expected ${description}` : e.message}, got ${describeValue(valueAt(value, e.instancePath))}`
    }
    if (!seen.has(issue.path)) { seen.add(issue.path); issues.push(issue) }
  }
  throw new ConfigInvalidError(source, issues.length > 0 ? issues : [{ path: '', expected: 'must be a mapping of settings' }])
}

function schemaDescription (schemaPath: string): string | undefined {
  let s: unknown = ConfigSchema
  for (const seg of schemaPath.replace(/^#\/?/, '').split('/').filter((x) => x !== '')) {
    if (typeof s !== 'object' || s === null) return undefined
    s = (s as Record<string, unknown>)[seg]
  }
  return typeof s === 'object' && s !== null ? (s as { description?: string }).description : undefined
}

export interface LoadedConfig {
  config: Config
  /** The file read, or undefined when there was none (defaults and environment only). */
  path: string | undefined
}

/**
 * Reads `path` (default: `config.yaml` in the data directory; a missing default file is fine,
 * a missing named one is not), applies `BZZZ_*` variables, validates and fills in defaults.
 */
export async function loadConfig (options: { path?: string, env?: NodeJS.ProcessEnv } = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env
  const named = options.path ?? (env.BZZZ_CONFIG !== undefined && env.BZZZ_CONFIG !== '' ? env.BZZZ_CONFIG : undefined)
  const path = resolve(named ?? defaultConfigPath(env))
  let text: string | undefined
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOENT' || named !== undefined) throw new ConfigFileError(path, code === 'ENOENT' ? 'no such file' : (err as Error).message)
  }
  let parsed: unknown = {}
  if (text !== undefined) {
    try {
      parsed = parseYaml(text) ?? {}
    } catch (err) {
      if (err instanceof YAMLParseError) {
        const pos = err.linePos?.[0]
        throw new ConfigFileError(path, `not valid YAML${pos !== undefined ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${err.message.split('\n')[0]}`)
      }
      throw err
    }
    validateConfig(parsed, path)
  }
  const merged = applyEnv(parsed as Record<string, unknown>, env)
  const file = validateConfig(merged, text !== undefined ? `${path} with BZZZ_* environment` : 'BZZZ_* environment')
  return { config: withDefaults(file, env), path: text !== undefined ? path : undefined }
}
