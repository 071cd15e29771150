export * from './schemas.js'
export {
  TOPICS,
  MESSAGE_TYPES,
  TOPIC_VERSION,
  schemas,
  topicOf,
  topicOfType,
  isTopic,
  isMeshName,
  topicName,
  parseTopicName,
  type Topic,
  type TopicMessageMap,
  type Message,
  type MessageType
} from './topics.js'
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  decode,
  decodeTopic,
  safeDecode,
  encode,
  validate,
  isMessage,
  type DecodeOptions,
  type EncodeOptions,
  type DecodeResult
} from './codec.js'
export {
  ProtocolError,
  MessageTooLargeError,
  InvalidUtf8Error,
  InvalidJsonError,
  SchemaError,
  InvalidTimestampError,
  type SchemaIssue,
  type ProtocolErrorCode
} from './errors.js'
export { parseTimestamp, formatTimestamp } from './timestamp.js'
export { SEED_SAMPLES } from './samples.js'
export { SENDER_FIELD, senderOf } from './sender.js'
