// Message builders shared by the tests (not part of the package's API).
import { formatTimestamp } from '@bzzz/protocol'
import type {
  CapabilitiesMessage,
  PresencePingMessage,
  TaskBroadcastMessage,
  TaskClaimMessage,
  TaskHelpRequestMessage,
  TaskHelpResponseMessage,
  TaskResultMessage
} from '@bzzz/protocol'

export const T0 = Date.parse('2025-07-12T02:00:00Z')
export const REPO = 'example-org/task-repo'
export const ts = (ms: number): string => formatTimestamp(ms)

export function announce (taskId: string, at: number, extra: Partial<TaskBroadcastMessage> = {}): TaskBroadcastMessage {
  return {
    type: 'task',
    task_id: taskId,
    repo: REPO,
    issue_url: `https://github.com/${REPO}/issues/${taskId.slice(1)}`,
    model: 'ollama',
    input: 'do it',
    params: {},
    timestamp: ts(at),
    ...extra
  }
}

export function claim (taskId: string, node: string, at: number, extra: Partial<TaskClaimMessage> = {}): TaskClaimMessage {
  return { type: 'task_claim', task_id: taskId, node_id: node, repo: REPO, timestamp: ts(at), ...extra }
}

export function result (taskId: string, node: string, at: number, extra: Partial<TaskResultMessage> = {}): TaskResultMessage {
  return {
    type: 'task_result',
    task_id: taskId,
    node_id: node,
    repo: REPO,
    result_type: 'pull_request',
    result_url: `https://github.com/${REPO}/pull/1`,
    duration_ms: 1000,
    timestamp: ts(at),
    ...extra
  }
}

export function ping (node: string, at: number, extra: Partial<PresencePingMessage> = {}): PresencePingMessage {
  return { type: 'presence_ping', node_id: node, status: 'idle', load: { cpu: 10 }, active_tasks: [], timestamp: ts(at), ...extra }
}

export function caps (node: string, at: number, extra: Partial<CapabilitiesMessage> = {}): CapabilitiesMessage {
  return {
    type: 'capabilities',
    node_id: node,
    cpu: 10,
    gpu: 0,
    models: ['llama3'],
    installed: ['ollama'],
    status: 'idle',
    timestamp: ts(at),
    slots_free: 1,
    ...extra
  }
}

export function helpRequest (taskId: string, node: string, at: number, extra: Partial<TaskHelpRequestMessage> = {}): TaskHelpRequestMessage {
  return {
    type: 'task_help_request',
    task_id: taskId,
    from_node: node,
    repo: REPO,
    reason: 'missing capability',
    requested_capability: 'claude-cli',
    timestamp: ts(at),
    ...extra
  }
}

export function helpResponse (taskId: string, node: string, at: number, extra: Partial<TaskHelpResponseMessage> = {}): TaskHelpResponseMessage {
  return {
    type: 'task_help_response',
    task_id: taskId,
    from_node: node,
    repo: REPO,
    can_help: true,
    capabilities: ['claude-cli'],
    eta_seconds: 30,
    timestamp: ts(at),
    ...extra
  }
}
