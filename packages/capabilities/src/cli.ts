#!/usr/bin/env node
import { runCli } from './run-cli.js'

runCli({ argv: process.argv.slice(2), write: (text) => { process.stdout.write(text) } }).then((code) => {
  process.exitCode = code
}, (err: unknown) => {
  process.stderr.write(`bzzz-capabilities: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
