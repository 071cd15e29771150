// `bzzz task submit`: a node starts work as well as takes it — it opens a labelled issue in a
// watched repository, which the mesh's watcher then announces.
import type { GitHubClient } from '@bzzz/github'

export async function submitTask (client: GitHubClient, input: { repo: string, title: string, body: string, label: string, signal?: AbortSignal }): Promise<{ number: number, url: string }> {
  const [owner, repo] = input.repo.split('/') as [string, string]
  const res = await client.request('POST /repos/{owner}/{repo}/issues', {
    owner, repo, title: input.title, body: input.body, labels: [input.label]
  }, { scope: `submit:${input.repo}`, ...(input.signal !== undefined ? { signal: input.signal } : {}) })
  const data = res.data as { number: number, html_url: string }
  return { number: data.number, url: data.html_url }
}
