// A small demonstration until the simulation lands: every sample message of the design
// goes through the wire format and back, and a broken copy of each is refused.
import { SEED_SAMPLES, decode, encode, safeDecode } from '../packages/protocol/dist/index.js'

for (const [topic, text] of Object.entries(SEED_SAMPLES)) {
  const message = decode(text)
  const bytes = encode(message)
  const broken = safeDecode(text.slice(0, -2))
  console.log(JSON.stringify({ topic, type: message.type, bytes: bytes.byteLength, truncated_copy: broken.ok ? 'accepted' : broken.error.name }))
}
