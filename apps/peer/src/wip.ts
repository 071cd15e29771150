// Finding earlier work on a task: the branch a previous holder (or a help asker) pushed to its
// fork. Peers announce it on `meta_discussion` ("wip <fork> <branch>"); a peer that missed the
// note (it joined later, the note was lost) looks at the upstream's forks on GitHub.
import type { GitHubClient } from '@bzzz/github'
import type { WipSource } from './execution.js'

const WIP_NOTE = /^wip ([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+) (\S+) (\S+)$/

/** The `meta_discussion` body announcing pushed WIP. */
export function wipNote (wip: WipSource): string {
  return `wip ${wip.fork} ${wip.branch} ${wip.cloneUrl}`
}

/** The WIP a note announces, if it is a WIP note. */
export function parseWipNote (body: string): WipSource | undefined {
  const m = WIP_NOTE.exec(body.trim())
  if (m === null) return undefined
  return { fork: m[1]!, branch: m[2]!, cloneUrl: m[3]! }
}

/**
 * The GitHub logins of the holders of attempts 1 to `attempt - 1`, for `findWipOnForks`'s
 * `owners`; undefined when one of them is not known (a node that missed an attempt's claim, or
 * a peer's capabilities): every fork is then read.
 */
export function earlierHolderLogins (attempts: ReadonlyArray<{ attempt: number, holder: string | undefined }>, attempt: number, loginOf: (node: string) => string | undefined): string[] | undefined {
  const logins: string[] = []
  for (let a = 1; a < attempt; a++) {
    const holder = attempts.find((r) => r.attempt === a)?.holder
    const login = holder === undefined ? undefined : loginOf(holder)
    if (login === undefined) return undefined
    logins.push(login)
  }
  return logins
}

/** The branch name a node uses for an issue. */
export function branchFor (issue: number): string {
  return `bzzz/issue-${issue}`
}

interface ForkData { full_name: string, clone_url?: string, owner?: { login?: string } }
interface BranchData { name: string, commit?: { sha?: string } }

/** Whether a branch holds work on `issue`: this app's `bzzz/issue-N`, or @bzzz/executor's `bzzz/N-<node>`. */
export function isTaskBranch (branch: string, issue: number): boolean {
  return branch === branchFor(issue) || new RegExp(`^bzzz/${issue}-[A-Za-z0-9]+$`).test(branch)
}

/**
 * Looks through the upstream's forks for a branch of the issue. Returns the first fork that
 * has one (other forks before `ownFork`, whose branch the clone already has). With `owners`
 * (the logins of the task's earlier holders), only their forks are read: one request for the
 * list and one per earlier holder, where reading every fork of a fleet's repository costs a
 * request per peer.
 */
export async function findWipOnForks (client: GitHubClient, repo: string, issue: number, options: { ownFork?: string, owners?: readonly string[], scope?: string, signal?: AbortSignal } = {}): Promise<WipSource | undefined> {
  const [owner, name] = repo.split('/') as [string, string]
  const res = await client.request('GET /repos/{owner}/{repo}/forks', { owner, repo: name, per_page: 100 }, { scope: options.scope, signal: options.signal })
  const owners = options.owners === undefined ? undefined : new Set(options.owners.map((o) => o.toLowerCase()))
  const forks = (res.data as ForkData[])
    .filter((f) => owners === undefined || owners.has((f.owner?.login ?? f.full_name.split('/')[0]!).toLowerCase()))
    .sort((a, b) => Number(a.full_name === options.ownFork) - Number(b.full_name === options.ownFork))
  for (const fork of forks) {
    const [fo, fr] = fork.full_name.split('/') as [string, string]
    try {
      const b = await client.request('GET /repos/{owner}/{repo}/branches', { owner: fo, repo: fr, per_page: 100 }, { scope: options.scope, signal: options.signal })
      const found = (b.data as BranchData[]).find((x) => isTaskBranch(x.name, issue))
      if (found === undefined) continue
      return { fork: fork.full_name, branch: found.name, cloneUrl: fork.clone_url ?? `${client.gitBaseUrl}/${fork.full_name}.git` }
    } catch (err) {
      if ((err as { status?: number }).status === 404) continue
      throw err
    }
  }
  return undefined
}
