import os from 'node:os'
import { parseArgs } from 'node:util'
import { encode } from '@bzzz/protocol'
import { createCapabilityDetector, type CapabilityDetectorComponents } from './detector.js'

export const USAGE = `Usage: bzzz-capabilities [options]

Prints this machine's Bzzz capabilities message as JSON (it is checked against the schema).

  --node-id <id>        node_id to put in the message (default: the host name)
  --ollama-host <host>  Ollama's address (default: $OLLAMA_HOST, else 127.0.0.1:11434)
  --cli <name>          a CLI to look for; repeat for several (default: claude gemini codex opencode ollama aider)
  --cli-timeout <ms>    limit for each CLI's --version (default 5000)
  --snapshot            print the full detail instead: absences and their reasons, paths, model sizes
  --watch               keep running; print a line for every change (Ctrl-C to stop)
  --compact             one line of JSON instead of indented
  -h, --help            this text
`

export interface RunCliInit {
  argv: string[]
  write: (text: string) => void
  env?: NodeJS.ProcessEnv
  /** Resolves when `--watch` should end. Default: SIGINT or SIGTERM. */
  until?: Promise<void>
  /** How long the one-shot run measures the load after probing. Default 1000 ms. */
  settleMs?: number
  components?: CapabilityDetectorComponents
}

/** The `bzzz-capabilities` command, testable in-process. Resolves to the exit code. */
export async function runCli (init: RunCliInit): Promise<number> {
  const { values } = parseArgs({
    args: init.argv,
    options: {
      'node-id': { type: 'string' },
      'ollama-host': { type: 'string' },
      cli: { type: 'string', multiple: true },
      'cli-timeout': { type: 'string' },
      snapshot: { type: 'boolean', default: false },
      watch: { type: 'boolean', default: false },
      compact: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    },
    strict: true
  })
  if (values.help === true) {
    init.write(USAGE)
    return 0
  }
  const detector = createCapabilityDetector({
    nodeId: values['node-id'] ?? os.hostname(),
    name: os.hostname(),
    ...(init.env !== undefined ? { env: init.env } : {}),
    ...(values['ollama-host'] !== undefined ? { ollamaHost: values['ollama-host'] } : {}),
    ...(values.cli !== undefined ? { clis: values.cli } : {}),
    ...(values['cli-timeout'] !== undefined ? { cliTimeoutMs: Number(values['cli-timeout']) } : {}),
    loadIntervalMs: 2000
  }, init.components)
  const indent = values.compact === true ? undefined : 2
  const print = (): void => {
    const msg = detector.toMessage()
    encode(msg) // throws if it would not pass the schema
    init.write(`${JSON.stringify(values.snapshot === true ? detector.snapshot() : msg, null, indent)}\n`)
  }
  try {
    if (values.watch === true) {
      detector.addEventListener('change', (evt) => {
        init.write(`${JSON.stringify({ changes: evt.detail.changes })}\n`)
        print()
      })
      await detector.start()
      print()
      // Keep the process alive (the detector's timers do not) until told to end.
      const alive = setInterval(() => {}, 1 << 30)
      await (init.until ?? new Promise<void>((resolve) => {
        process.once('SIGINT', () => { resolve() })
        process.once('SIGTERM', () => { resolve() })
      }))
      clearInterval(alive)
      return 0
    }
    await detector.refresh()
    // The probes themselves keep the CPU busy: measure the load over a quieter moment after them.
    await new Promise((resolve) => setTimeout(resolve, init.settleMs ?? 1000))
    await detector.refresh({ probes: [] })
    print()
    return 0
  } finally {
    await detector.stop()
  }
}
