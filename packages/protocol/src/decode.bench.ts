// Decode-and-validate throughput per message type. Prints one JSON line per type:
// {"bench":"protocol.decode","type":"task_broadcast","msgs_per_s":N,...}
// Run: npx -y pnpm@12 bench protocol   (from the repository root)
import { SEED_SAMPLES, decode, encode, type Message } from './index.js'

const presencePing: Message = {
  type: 'presence_ping',
  node_id: '12D3KooWRBhwfeP2Y4TCx1SM6s9rUoHhR5STiGwxBhgFRcw3UERE',
  status: 'busy',
  load: { cpu: 37.5, mem: 61.2 },
  active_tasks: ['example-org/task-repo#42'],
  timestamp: '2025-07-12T02:00:00Z'
}
const inputs: Array<[string, Uint8Array]> = [
  ...Object.entries(SEED_SAMPLES).map(([topic, text]): [string, Uint8Array] => [topic, encode(JSON.parse(text) as Message)]),
  ['presence_ping', encode(presencePing)]
]

const durationMs = Number(process.env.BENCH_MS ?? 1000)
for (const [topic, bytes] of inputs) {
  for (let i = 0; i < 20_000; i++) decode(bytes) // warm up the JIT
  let n = 0
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(durationMs) * 1_000_000n
  let now = start
  while (now < deadline) {
    for (let i = 0; i < 1000; i++) decode(bytes)
    n += 1000
    now = process.hrtime.bigint()
  }
  const seconds = Number(now - start) / 1e9
  console.log(JSON.stringify({
    bench: 'protocol.decode',
    type: topic,
    bytes: bytes.byteLength,
    msgs_per_s: Math.round(n / seconds),
    ns_per_msg: Math.round((seconds * 1e9) / n)
  }))
}
