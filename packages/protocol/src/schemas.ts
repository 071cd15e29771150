import Type, { type Static } from 'typebox'

/**
 * The protocol version this package speaks. Messages may carry it as `v`;
 * a message without `v` is version 1 (the seed's samples carry none).
 */
export const PROTOCOL_VERSION = 1

const NodeId = Type.String({ minLength: 1, maxLength: 128 })
const TaskId = Type.String({ minLength: 1, maxLength: 128 })
/** `owner/name`, as GitHub spells repositories. */
const Repo = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$', maxLength: 201 })
/** RFC 3339 time; checked further by the decoder (see `InvalidTimestampError`). */
const Timestamp = Type.String({ minLength: 1, maxLength: 64 })
const Percent = Type.Number({ minimum: 0, maximum: 100 })
const Version = Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 }))
const ShortText = Type.String({ maxLength: 1024 })
const Name = Type.String({ minLength: 1, maxLength: 256 })

export const PeerStatus = Type.Union([Type.Literal('idle'), Type.Literal('busy'), Type.Literal('draining')])
export type PeerStatus = Static<typeof PeerStatus>

export const Gpu = Type.Object({
  name: Type.String({ maxLength: 256 }),
  util: Type.Optional(Percent),
  mem_total_mb: Type.Optional(Type.Number({ minimum: 0 })),
  mem_used_mb: Type.Optional(Type.Number({ minimum: 0 }))
})
export type Gpu = Static<typeof Gpu>

/** What a task needs of the peer that takes it. Every field is optional; all given must hold. */
export const Requirements = Type.Object({
  models: Type.Optional(Type.Array(Name, { maxItems: 32 })),
  clis: Type.Optional(Type.Array(Name, { maxItems: 32 })),
  gpu: Type.Optional(Type.Boolean()),
  min_mem_free_mb: Type.Optional(Type.Number({ minimum: 0 })),
  min_gpu_mem_free_mb: Type.Optional(Type.Number({ minimum: 0 }))
})
export type Requirements = Static<typeof Requirements>

/** `capabilities`: a peer tells every other peer what it can do. */
export const CapabilitiesMessage = Type.Object({
  type: Type.Literal('capabilities'),
  v: Version,
  node_id: NodeId,
  cpu: Percent,
  gpu: Percent,
  models: Type.Array(Name, { maxItems: 512 }),
  installed: Type.Array(Name, { maxItems: 128 }),
  status: PeerStatus,
  timestamp: Timestamp,
  // Additions to the seed, all optional so that the seed's sample stays valid.
  mem: Type.Optional(Percent),
  mem_free_mb: Type.Optional(Type.Number({ minimum: 0 })),
  gpus: Type.Optional(Type.Array(Gpu, { maxItems: 64 })),
  loaded_models: Type.Optional(Type.Array(Name, { maxItems: 512 })),
  versions: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 256 }))),
  slots_free: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 })),
  slots_total: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 })),
  name: Type.Optional(Type.String({ maxLength: 256 })),
  /** The peer's GitHub login: claim markers by the mesh's logins are the only ones that count. */
  github_login: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$', maxLength: 39 })),
  /** Where the peer can be dialled (multiaddrs): a peer hands a task straight to the peer it expects to claim it. */
  addrs: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { maxItems: 16 }))
})
export type CapabilitiesMessage = Static<typeof CapabilitiesMessage>

/** `task_broadcast`: a GitHub issue published as a task. Its `type` is `"task"`, as in the seed. */
export const TaskBroadcastMessage = Type.Object({
  type: Type.Literal('task'),
  v: Version,
  task_id: TaskId,
  repo: Repo,
  issue_url: Type.String({ minLength: 1, maxLength: 2048 }),
  model: Type.String({ maxLength: 256 }),
  input: Type.String({ maxLength: 48 * 1024 }),
  params: Type.Record(Type.String({ maxLength: 256 }), Type.Unknown()),
  timestamp: Timestamp,
  // Additions.
  title: Type.Optional(Type.String({ maxLength: 1024 })),
  node_id: Type.Optional(NodeId),
  action: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('update'), Type.Literal('withdraw')])),
  revision: Type.Optional(Type.String({ maxLength: 64 })),
  requirements: Type.Optional(Requirements)
})
export type TaskBroadcastMessage = Static<typeof TaskBroadcastMessage>

/** `task_claim`: a peer says it has claimed a task (the claim itself is decided on GitHub). */
export const TaskClaimMessage = Type.Object({
  type: Type.Literal('task_claim'),
  v: Version,
  task_id: TaskId,
  node_id: NodeId,
  timestamp: Timestamp,
  repo: Type.Optional(Repo),
  lease_expires: Type.Optional(Timestamp),
  attempt: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  claim_id: Type.Optional(Type.Integer({ minimum: 0 })),
  state: Type.Optional(Type.Union([Type.Literal('claimed'), Type.Literal('running'), Type.Literal('released')])),
  /** The GitHub claim comment this claim breaks: its holder was held dead by the mesh. */
  breaks: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Why a `released` claim ended (`broken`, `expired`, `held`, `completed`, `withdrawn`, …). */
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 64 }))
})
export type TaskClaimMessage = Static<typeof TaskClaimMessage>

export const ResultType = Type.Union([Type.Literal('pull_request'), Type.Literal('issue'), Type.Literal('failure')])
export type ResultType = Static<typeof ResultType>

/** `task_result`: a pull request, an issue, or a failure report. A failure carries a `reason`. */
export const TaskResultMessage = Type.Object({
  type: Type.Literal('task_result'),
  v: Version,
  task_id: TaskId,
  node_id: NodeId,
  result_type: ResultType,
  result_url: Type.String({ maxLength: 2048 }),
  duration_ms: Type.Number({ minimum: 0 }),
  timestamp: Timestamp,
  repo: Type.Optional(Repo),
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  attempt: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  extra_urls: Type.Optional(Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 32 }))
})
export type TaskResultMessage = Static<typeof TaskResultMessage>

/** `presence_ping`: the lightweight liveness signal. */
export const PresencePingMessage = Type.Object({
  type: Type.Literal('presence_ping'),
  v: Version,
  node_id: NodeId,
  status: PeerStatus,
  load: Type.Object({
    cpu: Percent,
    mem: Type.Optional(Percent),
    gpu: Type.Optional(Percent)
  }),
  active_tasks: Type.Array(Type.String({ maxLength: 512 }), { maxItems: 256 }),
  timestamp: Timestamp,
  slots_free: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 })),
  seq: Type.Optional(Type.Integer({ minimum: 0 }))
})
export type PresencePingMessage = Static<typeof PresencePingMessage>

/** `task_help_request`: a peer asks the mesh for help with a task. */
export const TaskHelpRequestMessage = Type.Object({
  type: Type.Literal('task_help_request'),
  v: Version,
  task_id: TaskId,
  from_node: NodeId,
  reason: ShortText,
  requested_capability: Type.String({ maxLength: 256 }),
  timestamp: Timestamp,
  repo: Type.Optional(Repo),
  request_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  requirements: Type.Optional(Requirements),
  /** Set when the requester accepts an offer: the node id of the helper that takes over. */
  accepted_node: Type.Optional(NodeId)
})
export type TaskHelpRequestMessage = Static<typeof TaskHelpRequestMessage>

/** `task_help_response`: a peer offers help (or says it cannot). */
export const TaskHelpResponseMessage = Type.Object({
  type: Type.Literal('task_help_response'),
  v: Version,
  task_id: TaskId,
  from_node: NodeId,
  can_help: Type.Boolean(),
  capabilities: Type.Array(Name, { maxItems: 128 }),
  eta_seconds: Type.Number({ minimum: 0 }),
  timestamp: Timestamp,
  repo: Type.Optional(Repo),
  request_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  to_node: Type.Optional(NodeId),
  load: Type.Optional(Percent)
})
export type TaskHelpResponseMessage = Static<typeof TaskHelpResponseMessage>

/** `meta_discussion` (optional topic): task-scoped coordination notes between peers. */
export const MetaDiscussionMessage = Type.Object({
  type: Type.Literal('meta_discussion'),
  v: Version,
  task_id: TaskId,
  node_id: NodeId,
  body: Type.String({ minLength: 1, maxLength: 16 * 1024 }),
  timestamp: Timestamp,
  repo: Type.Optional(Repo),
  thread_id: Type.Optional(Type.String({ maxLength: 128 })),
  reply_to: Type.Optional(Type.String({ maxLength: 128 }))
})
export type MetaDiscussionMessage = Static<typeof MetaDiscussionMessage>
