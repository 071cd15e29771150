// Every flag in the default command lines is one the installed CLI's own `--help` documents
// (the exact-version devDependencies), so a version bump that drops or renames one fails here.
import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { CLAUDE_TEMPLATE } from './claude.js'
import { CODEX_TEMPLATE } from './codex.js'
import { GEMINI_TEMPLATE } from './gemini.js'
import { OPENCODE_TEMPLATE } from './opencode.js'
import type { CommandTemplate } from './template.js'

const BIN = join(fileURLToPath(new URL('../..', import.meta.url)), 'node_modules', '.bin')
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${BIN}:${process.env.PATH ?? ''}`, NO_COLOR: '1' }

async function help (file: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)(join(BIN, file), args, { env, timeout: 60_000 })
  return stdout + stderr
}

function flags (template: CommandTemplate): string[] {
  return template.args.flat().filter((a) => /^--?[a-zA-Z]/.test(a))
}

// Accepted but not listed by `--help` at the checked version; real-cli-traps.test.ts proves each works.
const UNLISTED: Record<string, string[]> = { claude: ['--max-turns'] }

const CASES: Array<[string, CommandTemplate, string[]]> = [
  ['claude', CLAUDE_TEMPLATE, ['--help']],
  ['codex', CODEX_TEMPLATE, ['exec', '--help']],
  ['gemini', GEMINI_TEMPLATE, ['--help']],
  ['opencode', OPENCODE_TEMPLATE, ['run', '--help']]
]

describe('default command lines against the CLIs\' --help', () => {
  for (const [name, template, args] of CASES) {
    it(`${name}: every flag is documented`, async () => {
      const text = await help(name, args)
      for (const flag of flags(template).filter((f) => !(UNLISTED[name] ?? []).includes(f))) expect(text, `${name} ${args.join(' ')} does not list ${flag}`).toMatch(new RegExp(`(^|[\\s,])${flag.replace(/[-]/g, '\\-')}([\\s,=<[]|$)`, 'm'))
    }, 60_000)
  }

  it('the unlisted exceptions are still unlisted (remove them here when a CLI documents them)', async () => {
    expect(await help('claude', ['--help'])).not.toContain('--max-turns')
  }, 60_000)
})
