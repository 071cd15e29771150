import { findExecutable, firstLine, runCommand } from './exec.js'
import type { CliState } from './types.js'

/** The agent CLIs looked for by default. */
export const DEFAULT_CLIS: readonly string[] = Object.freeze(['claude', 'gemini', 'codex', 'opencode', 'ollama', 'aider'])

/** How to look for one CLI. */
export interface CliSpec {
  /** The name it is reported under (in `installed` and `versions`). */
  name: string
  /** The executable to look for on the PATH, or an absolute path. Default: `name`. */
  command?: string
  /** Arguments that print its version. Default `['--version']`. */
  args?: string[]
}

const VERSION = /(?<![\w.])v?(\d+\.\d+(?:\.\d+)*(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)(?![\w])/

/**
 * The first version-looking token in a CLI's `--version` output (`1.2.3`, `v0.5.1`,
 * `2.0.0-beta.1`), without a leading `v`; `undefined` when there is none.
 */
export function parseVersion (output: string): string | undefined {
  const m = VERSION.exec(output)
  if (m === null) return undefined
  const v = (m[1] ?? '').replace(/[.-]+$/, '')
  return v.length > 0 && v.length <= 128 ? v : undefined
}

export interface ProbeCliOptions {
  env: NodeJS.ProcessEnv
  timeoutMs: number
  signal?: AbortSignal
}

/**
 * Finds one CLI on the PATH and asks its version. Not on the PATH: absent, `not-installed`.
 * Hangs: killed after `timeoutMs`, absent, `timed-out`. Exits non-zero or cannot start: absent, `failed`.
 */
export async function probeCli (spec: CliSpec, options: ProbeCliOptions): Promise<CliState> {
  const command = spec.command ?? spec.name
  const path = await findExecutable(command, options.env)
  if (path === undefined) {
    return { name: spec.name, available: false, absence: { reason: 'not-installed', detail: `${command} is not on the PATH` } }
  }
  const result = await runCommand(path, spec.args ?? ['--version'], options)
  switch (result.kind) {
    case 'spawn-failed':
      return { name: spec.name, available: false, path, absence: { reason: 'failed', detail: `could not start: ${result.error}` } }
    case 'timed-out':
      return { name: spec.name, available: false, path, absence: { reason: 'timed-out', detail: `no answer to ${(spec.args ?? ['--version']).join(' ')} within ${options.timeoutMs} ms` } }
    case 'exited': {
      if (result.code !== 0) {
        const why = result.code === null ? `killed by ${result.signal ?? 'a signal'}` : `exit code ${result.code}`
        const said = firstLine(result.stderr.length > 0 ? result.stderr : result.stdout)
        return { name: spec.name, available: false, path, absence: { reason: 'failed', detail: said.length > 0 ? `${why}: ${said}` : why } }
      }
      const version = parseVersion(result.stdout) ?? parseVersion(result.stderr)
      return version === undefined
        ? { name: spec.name, available: true, path }
        : { name: spec.name, available: true, path, version }
    }
  }
}

/** Probes every CLI at once; the answer keeps the order of `specs`. */
export async function probeClis (specs: readonly CliSpec[], options: ProbeCliOptions): Promise<CliState[]> {
  return await Promise.all(specs.map(async (spec) => await probeCli(spec, options)))
}
