// The daemon's configuration file: a TypeBox schema (every setting optional, with its default
// in DEFAULT_CONFIG) and the type it describes. docs/peer-config.md lists every setting.
import Type, { type Static } from 'typebox'

const Ms = (description: string) => Type.Integer({ minimum: 0, maximum: 86_400_000, description })
const RepoPattern = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,100}/([A-Za-z0-9_.-]{1,100}|\\*)$', description: 'owner/name or owner/*' })
const Multiaddr = Type.String({ pattern: '^/', maxLength: 1024, description: 'a multiaddr such as /ip4/10.0.0.5/tcp/4001/p2p/12D3KooW…' })
const Path = Type.String({ minLength: 1, maxLength: 4096 })

export const ConfigSchema = Type.Object({
  /** A name for people: the dashboard, the capabilities message. */
  name: Type.Optional(Type.String({ maxLength: 256 })),
  /** Where the key, the state database and work directories live. */
  dataDir: Type.Optional(Path),
  github: Type.Optional(Type.Object({
    apiUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'an http(s) URL' })),
    gitUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'an http(s) URL' })),
    /** A file holding the token (mode 0600, or a systemd credential). The env var GITHUB_TOKEN is the fallback. */
    tokenFile: Type.Optional(Path),
    /** The environment variable holding the token. Default GITHUB_TOKEN. */
    tokenEnv: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }))
  }, { additionalProperties: false })),
  /** Watched repositories: `owner/name`, or `owner/*` for all of an organisation's. */
  repos: Type.Optional(Type.Array(RepoPattern, { maxItems: 1000 })),
  watch: Type.Optional(Type.Object({
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    trustedAssociations: Type.Optional(Type.Array(Type.Union([
      Type.Literal('OWNER'), Type.Literal('MEMBER'), Type.Literal('COLLABORATOR'), Type.Literal('CONTRIBUTOR'),
      Type.Literal('FIRST_TIME_CONTRIBUTOR'), Type.Literal('FIRST_TIMER'), Type.Literal('NONE')
    ]))),
    intervalMs: Type.Optional(Ms('poll interval per repository')),
    overlapMs: Type.Optional(Ms('how far back each poll looks for issues a lagging list showed late')),
    reposRefreshMs: Type.Optional(Ms('how often owner/* is listed again'))
  }, { additionalProperties: false })),
  mesh: Type.Optional(Type.Object({
    name: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'the mesh name: 1-63 of [a-z0-9._-]' })),
    transport: Type.Optional(Type.Union([Type.Literal('tcp'), Type.Literal('memory')])),
    listen: Type.Optional(Type.Array(Multiaddr)),
    announce: Type.Optional(Type.Array(Multiaddr)),
    bootstrap: Type.Optional(Type.Array(Multiaddr)),
    mdns: Type.Optional(Type.Boolean()),
    dht: Type.Optional(Type.Boolean()),
    /** A file with the private mesh's pre-shared key (`bzzz init --network-key` makes one). */
    networkKeyFile: Type.Optional(Path),
    /** Peer ids allowed to connect. Unset: anyone holding the network key. */
    allowlist: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 })))
  }, { additionalProperties: false })),
  http: Type.Optional(Type.Object({
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    /** Turn the local HTTP interface off. */
    enabled: Type.Optional(Type.Boolean())
  }, { additionalProperties: false })),
  agent: Type.Optional(Type.Object({
    /** `scripted` (a stand-in that writes one file), or an agent CLI / Ollama once @bzzz/executor is wired. */
    kind: Type.Optional(Type.Union(['scripted', 'none', 'claude', 'codex', 'gemini', 'opencode', 'ollama', 'command'].map((k) => Type.Literal(k)))),
    /** `command` agent: `[file, ...args]` with `{prompt}`, `{cwd}`, `{model}` placeholders. */
    command: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { minItems: 1 })),
    /** Model for the agent where the task names none. */
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** Run the agent in a bubblewrap sandbox (only the workspace writable). */
    sandbox: Type.Optional(Type.Boolean()),
    /** Tasks worked on at once. */
    slots: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })),
    /** Capabilities offered to peers asking for help (agent CLIs, models). */
    offers: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }))),
    /** When the agent cannot finish, ask the mesh for this capability (e.g. `claude`). */
    escalate: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** Scripted agent: the steps (files written, one commit each). */
    steps: Type.Optional(Type.Array(Type.Object({
      file: Type.String({ minLength: 1, maxLength: 1024 }),
      content: Type.String({ maxLength: 1_000_000 }),
      delayMs: Type.Optional(Ms('wait before this step'))
    }, { additionalProperties: false })))
  }, { additionalProperties: false })),
  capabilities: Type.Optional(Type.Object({
    /** Probe the machine (CLIs, Ollama, GPUs), or announce a fixed set. */
    detect: Type.Optional(Type.Boolean()),
    installed: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }))),
    models: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }))),
    ollamaHost: Type.Optional(Type.String({ maxLength: 1024 }))
  }, { additionalProperties: false })),
  git: Type.Optional(Type.Object({
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    email: Type.Optional(Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', description: 'an e-mail address' }))
  }, { additionalProperties: false })),
  timings: Type.Optional(Type.Object({
    presenceMs: Type.Optional(Ms('presence interval')),
    capabilitiesMs: Type.Optional(Ms('capabilities interval')),
    tickMs: Type.Optional(Ms('scheduler tick')),
    warmUpMs: Type.Optional(Ms('wait before elections and claims (at least 1.5 × presenceMs)')),
    replicateMs: Type.Optional(Ms('log replication interval')),
    leaseMs: Type.Optional(Ms('claim lease')),
    renewEveryMs: Type.Optional(Ms('claim renewal')),
    settleMs: Type.Optional(Ms('claim settle time')),
    standbyStepMs: Type.Optional(Ms('standby claimer step')),
    suspectAfterMs: Type.Optional(Ms('a silent peer is suspect after')),
    deadAfterMs: Type.Optional(Ms('a silent peer is dead after')),
    drainTimeoutMs: Type.Optional(Ms('drain deadline'))
  }, { additionalProperties: false })),
  log: Type.Optional(Type.Object({
    level: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))))
  }, { additionalProperties: false }))
}, { additionalProperties: false })

export type ConfigFile = Static<typeof ConfigSchema>

/** A configuration with every default filled in. */
export interface Config {
  name: string | undefined
  dataDir: string
  github: { apiUrl: string, gitUrl: string, tokenFile: string | undefined, tokenEnv: string }
  repos: string[]
  watch: { label: string, trustedAssociations: string[] | undefined, intervalMs: number, overlapMs: number, reposRefreshMs: number }
  mesh: {
    name: string
    transport: 'tcp' | 'memory'
    listen: string[]
    announce: string[]
    bootstrap: string[]
    mdns: boolean
    dht: boolean
    networkKeyFile: string | undefined
    allowlist: string[] | undefined
  }
  http: { host: string, port: number, enabled: boolean }
  agent: {
    kind: 'scripted' | 'none' | 'claude' | 'codex' | 'gemini' | 'opencode' | 'ollama' | 'command'
    command: string[] | undefined
    model: string | undefined
    sandbox: boolean
    slots: number
    offers: string[]
    escalate: string | undefined
    steps: Array<{ file: string, content: string, delayMs?: number }> | undefined
  }
  capabilities: { detect: boolean, installed: string[], models: string[], ollamaHost: string | undefined }
  git: { name: string | undefined, email: string | undefined }
  timings: {
    presenceMs: number
    capabilitiesMs: number
    tickMs: number
    warmUpMs: number | undefined
    replicateMs: number
    leaseMs: number
    renewEveryMs: number | undefined
    settleMs: number
    standbyStepMs: number
    suspectAfterMs: number | undefined
    deadAfterMs: number | undefined
    drainTimeoutMs: number
  }
  log: { level: string }
}
