#!/usr/bin/env node
/**
 * bzzz-forge: run the forge from the command line.
 *   bzzz-forge --port 3000 --seed seed.json [--host 127.0.0.1] [--data-dir DIR]
 *              [--fork-delay-ms 0] [--random-seed 42] [--faults faults.json] [--rate-limit limits.json]
 * Prints {"url":…,"dataDir":…} once listening; SIGINT/SIGTERM close it.
 */
import { runCli } from './cli-main.js'

runCli(process.argv.slice(2)).then((forge) => {
  if (forge == null) return
  const stop = (): void => { void forge.close().then(() => process.exit(0)) }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}, (err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(1)
})
