// The git CLI, run with credentials only in the environment (`client.gitEnv()`), never in
// the arguments, a remote URL or `.git/config`.
import { execFile } from 'node:child_process'
import { GitCommandError } from './errors.js'
import type { GitIdentity } from './types.js'

export interface GitOptions {
  cwd: string
  /** Extra environment: the auth header from `gitEnv()`, an index file, an identity. */
  env?: Record<string, string>
  signal?: AbortSignal
  /** Redacts stderr before it goes into an error. */
  redact?: (text: string) => string
}

/** Runs `git args` and returns its stdout. Throws `GitCommandError`. */
export async function git (args: readonly string[], options: GitOptions): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile('git', args, {
      cwd: options.cwd,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...options.env },
      maxBuffer: 64 * 1024 * 1024,
      signal: options.signal,
      encoding: 'utf8'
    }, (err, stdout, stderr) => {
      if (err === null) { resolve(stdout); return }
      if (options.signal?.aborted === true) { reject(options.signal.reason); return }
      const code = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null
      reject(new GitCommandError(args, code, (options.redact ?? ((t) => t))(stderr)))
    })
  })
}

/** The author and committer environment for `identity`. */
export function identityEnv (identity: GitIdentity): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email
  }
}

/** The node's identity from its global git configuration (`~/.gitconfig`). */
export async function globalIdentity (signal?: AbortSignal): Promise<GitIdentity | undefined> {
  try {
    const name = (await git(['config', '--global', 'user.name'], { cwd: '/', signal })).trim()
    const email = (await git(['config', '--global', 'user.email'], { cwd: '/', signal })).trim()
    return name !== '' && email !== '' ? { name, email } : undefined
  } catch {
    return undefined
  }
}
