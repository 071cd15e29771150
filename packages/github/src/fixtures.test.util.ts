// Shared by the integration tests: a forge with users and repositories, clients for them, and git.
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createForge, type FaultConfig, type Forge, type RateLimitConfig, type SeedIssue, type SeedRepo } from '@bzzz/forge'
import { createGitHubClient, type GitHubClient, type GitHubClientInit } from './client.js'

const execFileP = promisify(execFile)

export const tokenOf = (login: string): string => `tok-${login}-0123456789abcdef`

/** Rate limits loose enough not to matter in tests about something else. */
export const LOOSE_LIMITS: Partial<RateLimitConfig> = {
  primaryLimit: 1_000_000,
  concurrent: 10_000,
  pointsPerMinute: 10_000_000,
  contentPerMinute: 1_000_000,
  contentPerHour: 1_000_000
}

export interface Fixture {
  forge: Forge
  client: (login: string, init?: Partial<GitHubClientInit>) => Promise<GitHubClient>
  close: () => Promise<void>
}

export async function startForge (opts: {
  users: string[]
  repos: SeedRepo[]
  orgs?: Array<{ login: string, members?: string[], owners?: string[] }>
  seed?: number
  faults?: FaultConfig
  rateLimit?: Partial<RateLimitConfig>
  forkDelayMs?: number
}): Promise<Fixture> {
  const forge = await createForge({
    port: 0,
    host: '127.0.0.1',
    seed: { users: opts.users.map((login) => ({ login, token: tokenOf(login), email: `${login}@example.test` })), orgs: opts.orgs ?? [], repos: opts.repos },
    random: { seed: opts.seed ?? 1 },
    rateLimit: opts.rateLimit ?? LOOSE_LIMITS,
    ...(opts.faults !== undefined ? { faults: opts.faults } : {}),
    ...(opts.forkDelayMs !== undefined ? { forkDelayMs: opts.forkDelayMs } : {})
  })
  return {
    forge,
    client: async (login, init = {}) => await createGitHubClient({
      token: tokenOf(login),
      baseUrl: forge.url,
      gitBaseUrl: forge.url,
      throttle: { writeMinTimeMs: 0, notificationMinTimeMs: 0, maxConcurrent: 100, retryAfterBaseMs: 50, ...init.throttle },
      retry: { retryAfterBaseMs: 20, ...init.retry },
      log: { warn: () => {}, error: () => {} },
      ...init
    }),
    close: async () => { await forge.close() }
  }
}

export function issues (n: number, author: string, extra: Partial<SeedIssue> = {}): SeedIssue[] {
  return Array.from({ length: n }, (_, i) => ({ title: `Task ${i + 1}`, body: `Do thing ${i + 1}`, author, labels: ['bzzz'], ...extra }))
}

/** Runs git without the token in its arguments: `env` carries the auth header. */
export async function git (args: string[], cwd: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await execFileP('git', args, {
    cwd,
    env: { ...process.env, ...env, GIT_AUTHOR_NAME: 'Bzzz', GIT_AUTHOR_EMAIL: 'bzzz@example.test', GIT_COMMITTER_NAME: 'Bzzz', GIT_COMMITTER_EMAIL: 'bzzz@example.test' }
  })
  return stdout
}

/** Clones `cloneUrl`, commits one file on `branch` and pushes it. Returns the temp dir (caller removes). */
export async function pushBranch (cloneUrl: string, branch: string, env: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bzzz-gh-git-'))
  try {
    await git(['clone', '-q', cloneUrl, 'work'], dir, env)
    const work = join(dir, 'work')
    await git(['checkout', '-q', '-b', branch], work, env)
    await writeFile(join(work, `${branch.replace(/\W/g, '_')}.txt`), `work for ${branch}\n`)
    await git(['add', '.'], work, env)
    await git(['commit', '-q', '-m', `bzzz: ${branch}`], work, env)
    await git(['push', '-q', 'origin', branch], work, env)
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  return dir
}

export async function until (cond: () => boolean | Promise<boolean>, timeoutMs = 20_000, stepMs = 25): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, stepMs))
  }
}
