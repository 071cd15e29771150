// Watched repositories: `owner/name`, or `owner/*` for every repository of an organisation or
// user (the seed's "GitHub org coordination"), expanded again on a schedule so that
// repositories added later are picked up without a restart.
import type { GitHubClient } from '@bzzz/github'

const REPO_RE = /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/
const OWNER_RE = /^([A-Za-z0-9_.-]{1,100})\/\*$/

/** Whether a watched-repository pattern is valid: `owner/name` or `owner/*`. */
export function isRepoPattern (pattern: string): boolean {
  return REPO_RE.test(pattern) || OWNER_RE.test(pattern)
}

/** The owner of an `owner/*` pattern, else undefined. */
export function wildcardOwner (pattern: string): string | undefined {
  return OWNER_RE.exec(pattern)?.[1]
}

interface RepoData { full_name: string, archived?: boolean, fork?: boolean, disabled?: boolean }

/** Lists an organisation's (or, failing that, a user's) repositories, skipping forks and archived ones. */
export async function listOwnerRepos (client: GitHubClient, owner: string, options: { signal?: AbortSignal } = {}): Promise<string[]> {
  const out: string[] = []
  const scope = `watch:${owner}/*`
  let route: 'GET /orgs/{org}/repos' | 'GET /users/{username}/repos' = 'GET /orgs/{org}/repos'
  for (let page = 1; page <= 20; page++) {
    let data: RepoData[]
    try {
      const res = route === 'GET /orgs/{org}/repos'
        ? await client.request(route, { org: owner, per_page: 100, page }, { scope, signal: options.signal })
        : await client.request(route, { username: owner, per_page: 100, page }, { scope, signal: options.signal })
      data = res.data as RepoData[]
    } catch (err) {
      if (route === 'GET /orgs/{org}/repos' && page === 1 && (err as { status?: number }).status === 404) {
        route = 'GET /users/{username}/repos'
        page = 0
        continue
      }
      throw err
    }
    for (const r of data) {
      if (r.archived !== true && r.fork !== true && r.disabled !== true) out.push(r.full_name)
    }
    if (data.length < 100) break
  }
  return out.sort()
}

/** Expands the patterns into repositories (sorted, without duplicates). */
export async function expandRepos (client: GitHubClient, patterns: readonly string[], options: { signal?: AbortSignal } = {}): Promise<string[]> {
  const repos = new Set<string>()
  for (const p of patterns) {
    const owner = wildcardOwner(p)
    if (owner === undefined) repos.add(p)
    else for (const r of await listOwnerRepos(client, owner, options)) repos.add(r)
  }
  return [...repos].sort()
}
