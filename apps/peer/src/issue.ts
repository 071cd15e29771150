// A task announcement made from an issue read directly (for `bzzz task run`, where no watcher
// has announced it).
import type { GitHubClient } from '@bzzz/github'
import { formatTimestamp, type TaskBroadcastMessage } from '@bzzz/protocol'

interface IssueData { number: number, title: string, body?: string | null, html_url: string, labels?: Array<string | { name?: string }> }

export async function announcementFor (client: GitHubClient, repo: string, issue: number, nodeId: string, options: { signal?: AbortSignal } = {}): Promise<TaskBroadcastMessage> {
  const [owner, name] = repo.split('/') as [string, string]
  const res = await client.request('GET /repos/{owner}/{repo}/issues/{issue_number}', { owner, repo: name, issue_number: issue }, { scope: `task:${repo}#${issue}`, ...(options.signal !== undefined ? { signal: options.signal } : {}) })
  const data = res.data as IssueData
  const labels = (data.labels ?? []).map((l) => (typeof l === 'string' ? l : l.name ?? ''))
  const model = labels.find((l) => l.startsWith('model:'))?.slice('model:'.length) ?? 'default'
  return {
    type: 'task',
    v: 1,
    task_id: `#${issue}`,
    repo,
    issue_url: data.html_url,
    model,
    input: `${data.title}\n\n${data.body ?? ''}`.slice(0, 48 * 1024),
    params: {},
    timestamp: formatTimestamp(),
    title: data.title.slice(0, 1024),
    node_id: nodeId,
    action: 'open'
  }
}
