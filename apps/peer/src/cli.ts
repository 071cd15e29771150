#!/usr/bin/env node
// `bzzz`: see cli-main.ts. Errors are one line on stderr and a non-zero exit, never a stack
// trace (set BZZZ_DEBUG=1 for one).
import { CommanderError } from 'commander'
import { buildCli } from './cli-main.js'

const program = buildCli({ out: (t) => { process.stdout.write(t.endsWith('\n') ? t : `${t}\n`) }, err: (t) => { process.stderr.write(t.endsWith('\n') ? t : `${t}\n`) }, env: process.env })
try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode
  } else {
    const e = err as Error
    process.stderr.write(`bzzz: ${(e.message ?? String(err)).split('\n')[0]}\n`)
    if (process.env.BZZZ_DEBUG === '1') process.stderr.write(`${e.stack ?? ''}\n`)
    process.exitCode = 1
  }
}
