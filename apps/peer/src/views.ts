// What the HTTP interface and the command line show of peers and tasks.
import type { PeerView, TaskView } from '@bzzz/state'

export interface PeerSummary {
  nodeId: string
  name: string | undefined
  liveness: string
  status: string | undefined
  load: number | undefined
  slotsFree: number | undefined
  activeTasks: readonly string[]
  installed: string[]
  models: string[]
  lastHeardAt: number
}

export interface TaskSummary {
  key: string
  repo: string | undefined
  title: string | undefined
  issueUrl: string | undefined
  status: string
  holder: string | undefined
  attempt: number
  resultType: string | undefined
  resultUrl: string | undefined
}

export function peerSummary (p: PeerView): PeerSummary {
  return {
    nodeId: p.nodeId,
    name: p.capabilities?.name,
    liveness: p.liveness,
    status: p.status,
    load: p.load,
    slotsFree: p.slotsFree,
    activeTasks: p.activeTasks,
    installed: p.capabilities?.installed ?? [],
    models: p.capabilities?.models ?? [],
    lastHeardAt: p.lastHeardAt
  }
}

export function taskSummary (t: TaskView): TaskSummary {
  return {
    key: t.key,
    repo: t.repo,
    title: t.announcement?.title,
    issueUrl: t.announcement?.issue_url,
    status: t.status,
    holder: t.holder?.node,
    attempt: t.attempt,
    resultType: t.result?.result_type,
    resultUrl: t.result?.result_url
  }
}
