#!/usr/bin/env node
import os from 'node:os'
import { parseArgs } from 'node:util'
import { encode } from '@bzzz/protocol'
import { createCapabilityDetector } from './detector.js'

const USAGE = `Usage: bzzz-capabilities [options]

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

async function main (): Promise<number> {
  const { values } = parseArgs({
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
    process.stdout.write(USAGE)
    return 0
  }
  const detector = createCapabilityDetector({
    nodeId: values['node-id'] ?? os.hostname(),
    name: os.hostname(),
    ...(values['ollama-host'] !== undefined ? { ollamaHost: values['ollama-host'] } : {}),
    ...(values.cli !== undefined ? { clis: values.cli } : {}),
    ...(values['cli-timeout'] !== undefined ? { cliTimeoutMs: Number(values['cli-timeout']) } : {}),
    loadIntervalMs: 2000
  })
  const indent = values.compact === true ? undefined : 2
  const print = (): void => {
    const out = values.snapshot === true ? detector.snapshot() : detector.toMessage()
    if (values.snapshot !== true) encode(detector.toMessage()) // throws if it would not pass the schema
    process.stdout.write(`${JSON.stringify(out, null, indent)}\n`)
  }
  if (values.watch === true) {
    detector.events.addEventListener('change', (evt) => {
      process.stdout.write(`${JSON.stringify({ changes: evt.detail.changes })}\n`)
      print()
    })
    await detector.start()
    print()
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => { resolve() })
      process.once('SIGTERM', () => { resolve() })
      // Keep the process alive: the detector's timers do not.
      setInterval(() => {}, 1 << 30)
    })
    await detector.stop()
    return 0
  }
  await detector.refresh()
  // The probes themselves keep the CPU busy: measure the load over a quiet second after them.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  await detector.refresh({ probes: [] })
  print()
  await detector.stop()
  return 0
}

main().then((code) => {
  process.exitCode = code
}, (err: unknown) => {
  process.stderr.write(`bzzz-capabilities: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
