// The agent's environment: an allowlist of the peer's variables, the adapter's own, and a
// few fixed ones that keep git from finding credentials. Nothing that holds a secret given in
// `secrets` (the GitHub token) gets through, whatever its name.
import { ExecutorConfigError } from './errors.js'

export const DEFAULT_ENV_ALLOW: readonly string[] = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TERM', 'TZ', 'TMPDIR', 'USER', 'LOGNAME', 'SHELL']

/** Names that carry GitHub credentials or git configuration; never passed to an agent. */
const FORBIDDEN_NAME = /^(GITHUB_TOKEN|GH_TOKEN|GH_ENTERPRISE_TOKEN|GITHUB_ENTERPRISE_TOKEN|GIT_ASKPASS|SSH_ASKPASS|SSH_AUTH_SOCK|GIT_CONFIG_(COUNT|KEY_\d+|VALUE_\d+|PARAMETERS))$/

export interface AgentEnvInit {
  /** The peer's environment (usually `process.env`). */
  base: Record<string, string | undefined>
  allow: readonly string[]
  /** The adapter's and the configuration's variables. */
  extra: Record<string, string>
  /** Secret strings no value may contain. */
  secrets: readonly string[]
}

/** Builds the environment. Throws `ExecutorConfigError` when `extra` names a credential variable. */
export function agentEnv (init: AgentEnvInit): Record<string, string> {
  const env: Record<string, string> = {}
  const holdsSecret = (value: string): boolean => init.secrets.some((s) => s.length >= 4 && value.includes(s))
  for (const name of init.allow) {
    const value = init.base[name]
    if (value !== undefined && !FORBIDDEN_NAME.test(name) && !holdsSecret(value)) env[name] = value
  }
  for (const [name, value] of Object.entries(init.extra)) {
    if (FORBIDDEN_NAME.test(name) || holdsSecret(value)) throw new ExecutorConfigError(`the agent's environment may not hold ${name}: it carries credentials`)
    env[name] = value
  }
  // git inside the agent: no prompt, no global or system configuration (and so no credential helper).
  env.GIT_TERMINAL_PROMPT = '0'
  env.GIT_CONFIG_NOSYSTEM = '1'
  env.GIT_CONFIG_GLOBAL = '/dev/null'
  return env
}

/** The secrets inside a `gitEnv()` (the basic-auth header's token), so that they can be kept out. */
export function secretsOfGitEnv (gitEnv: Record<string, string>): string[] {
  const out: string[] = []
  for (const [name, value] of Object.entries(gitEnv)) {
    if (!name.startsWith('GIT_CONFIG_VALUE_')) continue
    out.push(value)
    const basic = /Basic\s+([A-Za-z0-9+/=]+)/.exec(value)
    if (basic?.[1] !== undefined) {
      out.push(basic[1])
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon >= 0) out.push(decoded.slice(colon + 1))
    }
    const bearer = /(?:Bearer|token)\s+(\S+)/i.exec(value)
    if (bearer?.[1] !== undefined) out.push(bearer[1])
  }
  return out.filter((s) => s.length >= 4)
}
