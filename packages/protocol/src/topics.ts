import {
  CapabilitiesMessage,
  MetaDiscussionMessage,
  PresencePingMessage,
  TaskBroadcastMessage,
  TaskClaimMessage,
  TaskHelpRequestMessage,
  TaskHelpResponseMessage,
  TaskResultMessage
} from './schemas.js'

/** The schema of each topic. */
export const schemas = {
  capabilities: CapabilitiesMessage,
  task_broadcast: TaskBroadcastMessage,
  task_claim: TaskClaimMessage,
  task_result: TaskResultMessage,
  presence_ping: PresencePingMessage,
  task_help_request: TaskHelpRequestMessage,
  task_help_response: TaskHelpResponseMessage,
  meta_discussion: MetaDiscussionMessage
} as const

/** The pubsub topics of the mesh, as the seed names them (plus the optional `meta_discussion`). */
export type Topic = keyof typeof schemas
export const TOPICS: readonly Topic[] = Object.freeze(Object.keys(schemas) as Topic[])

/** The value of the `type` field carried by each topic's messages. */
export const MESSAGE_TYPES = {
  capabilities: 'capabilities',
  task_broadcast: 'task',
  task_claim: 'task_claim',
  task_result: 'task_result',
  presence_ping: 'presence_ping',
  task_help_request: 'task_help_request',
  task_help_response: 'task_help_response',
  meta_discussion: 'meta_discussion'
} as const satisfies Record<Topic, string>

export type MessageType = (typeof MESSAGE_TYPES)[Topic]

/** Maps each topic to the message it carries. */
export interface TopicMessageMap {
  capabilities: CapabilitiesMessage
  task_broadcast: TaskBroadcastMessage
  task_claim: TaskClaimMessage
  task_result: TaskResultMessage
  presence_ping: PresencePingMessage
  task_help_request: TaskHelpRequestMessage
  task_help_response: TaskHelpResponseMessage
  meta_discussion: MetaDiscussionMessage
}

/** Any message of the mesh. Discriminated on `type`. */
export type Message = TopicMessageMap[Topic]

const TOPIC_BY_TYPE: ReadonlyMap<string, Topic> = new Map(
  (Object.entries(MESSAGE_TYPES) as Array<[Topic, string]>).map(([topic, type]) => [type, topic])
)

/** The topic a message travels on, from its `type`; `undefined` for an unknown type. */
export function topicOfType (type: string): Topic | undefined {
  return TOPIC_BY_TYPE.get(type)
}

/** The topic of a (valid) message. */
export function topicOf (message: Message): Topic {
  const topic = TOPIC_BY_TYPE.get(message.type)
  if (topic === undefined) throw new TypeError(`unknown message type ${JSON.stringify(message.type)}`)
  return topic
}

export function isTopic (value: string): value is Topic {
  return Object.hasOwn(schemas, value)
}

/** Version segment of topic names; bumped only on a wire-incompatible change. */
export const TOPIC_VERSION = 1

const MESH_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/

/** Whether `name` can name a mesh: lower-case letters, digits, `.`, `_`, `-`; 1 to 63 characters. */
export function isMeshName (name: string): boolean {
  return MESH_NAME.test(name)
}

/**
 * The pubsub topic string for a topic of a mesh: `bzzz/<mesh>/1/<topic>`.
 * Several meshes can share one LAN because their topics never meet.
 */
export function topicName (mesh: string, topic: Topic): string {
  if (!isMeshName(mesh)) throw new RangeError(`invalid mesh name ${JSON.stringify(mesh)}: use 1-63 of [a-z0-9._-], starting with a letter or digit`)
  if (!isTopic(topic)) throw new RangeError(`unknown topic ${JSON.stringify(topic)}`)
  return `bzzz/${mesh}/${TOPIC_VERSION}/${topic}`
}

/** Parses a pubsub topic string made by `topicName`; `undefined` if it is not one. */
export function parseTopicName (name: string): { mesh: string, version: number, topic: Topic } | undefined {
  const parts = name.split('/')
  if (parts.length !== 4 || parts[0] !== 'bzzz') return undefined
  const [, mesh, version, topic] = parts as [string, string, string, string]
  if (!isMeshName(mesh) || !isTopic(topic) || !/^[0-9]+$/.test(version)) return undefined
  return { mesh, version: Number(version), topic }
}
