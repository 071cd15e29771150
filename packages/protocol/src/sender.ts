import type { Message, MessageType } from './topics.js'

/**
 * The field of each message type that names the node that sent it. The mesh requires it on
 * every message it carries and checks that it is the message's signer.
 */
export const SENDER_FIELD: Readonly<Record<MessageType, 'node_id' | 'from_node'>> = Object.freeze({
  capabilities: 'node_id',
  task: 'node_id',
  task_claim: 'node_id',
  task_result: 'node_id',
  presence_ping: 'node_id',
  task_help_request: 'from_node',
  task_help_response: 'from_node',
  meta_discussion: 'node_id'
})

/**
 * The node a message names as its sender. `undefined` only for a `task` without `node_id`,
 * which the protocol still decodes (the seed's sample has none) but the mesh refuses.
 */
export function senderOf (message: Message): string | undefined {
  const value = (message as unknown as Record<string, unknown>)[SENDER_FIELD[message.type]]
  return typeof value === 'string' ? value : undefined
}
