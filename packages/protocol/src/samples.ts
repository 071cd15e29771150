/**
 * The sample messages of Bzzz's original design, exactly as written there. They are the
 * wire format's reference: every one of them must decode as valid, forever.
 * (The design gives no sample for `presence_ping`; `docs/protocol.md` defines it.)
 */
export const SEED_SAMPLES = Object.freeze({
  capabilities: `{
  "type": "capabilities",
  "node_id": "pi-node-1",
  "cpu": 43.5,
  "gpu": 2.3,
  "models": ["llama3", "mistral"],
  "installed": ["ollama", "gemini-cli"],
  "status": "idle",
  "timestamp": "2025-07-12T01:23:45Z"
}`,
  task_broadcast: `{
  "type": "task",
  "task_id": "#42",
  "repo": "example-org/task-repo",
  "issue_url": "https://github.com/example-org/task-repo/issues/42",
  "model": "ollama",
  "input": "Add unit tests to utils module",
  "params": {"branch_prefix": "task-42-"},
  "timestamp": "2025-07-12T02:00:00Z"
}`,
  task_claim: `{
  "type": "task_claim",
  "task_id": "#42",
  "node_id": "pi-node-2",
  "timestamp": "2025-07-12T02:00:03Z"
}`,
  task_result: `{
  "type": "task_result",
  "task_id": "#42",
  "node_id": "pi-node-2",
  "result_type": "pull_request",
  "result_url": "https://github.com/example-org/task-repo/pull/97",
  "duration_ms": 15830,
  "timestamp": "2025-07-12T02:10:05Z"
}`,
  task_help_request: `{
  "type": "task_help_request",
  "task_id": "#42",
  "from_node": "pi-node-2",
  "reason": "Long-running task or missing capability",
  "requested_capability": "claude-cli",
  "timestamp": "2025-07-12T02:05:00Z"
}`,
  task_help_response: `{
  "type": "task_help_response",
  "task_id": "#42",
  "from_node": "pi-node-3",
  "can_help": true,
  "capabilities": ["claude-cli"],
  "eta_seconds": 30,
  "timestamp": "2025-07-12T02:05:02Z"
}`
} as const)
