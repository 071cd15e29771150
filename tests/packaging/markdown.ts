// What a package README promises its users, read from its Markdown: the examples to run, the
// links to follow and the commands to type. Pure functions; the packaging test does the I/O.

/** A fenced TypeScript block of a README: a complete program, type-checked and (unless `check-only`) run. */
export interface Example {
  /** 1-based line of the opening fence, for messages. */
  line: number
  /** `run`: type-checked and run; `check-only`: type-checked only (it needs something a test machine lacks). */
  mode: 'run' | 'check-only'
  code: string
}

/** A fenced block of any language, as written. */
export interface FencedBlock {
  line: number
  lang: string
  flags: string[]
  code: string
}

const TS_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs'])

/** Every fenced block (``` or ~~~) in a Markdown text. An unclosed fence runs to the end. */
export function fencedBlocks (markdown: string): FencedBlock[] {
  const lines = markdown.split(/\r?\n/)
  const blocks: FencedBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([^`]*)$/.exec(lines[i] ?? '')
    if (open === null) continue
    const fence = open[2] ?? '```'
    const [lang = '', ...flags] = (open[3] ?? '').trim().split(/\s+/).filter((w) => w !== '')
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(lines[j] ?? '')
      if (close !== null && close[1]?.[0] === fence[0] && (close[1]?.length ?? 0) >= fence.length) break
      body.push(lines[j] ?? '')
    }
    blocks.push({ line: i + 1, lang: lang.toLowerCase(), flags, code: body.join('\n') + '\n' })
    i = j
  }
  return blocks
}

/** The README's examples: every ```ts (or js) block; `check-only` after the language skips running it. */
export function examples (markdown: string): Example[] {
  return fencedBlocks(markdown)
    .filter((b) => TS_LANGS.has(b.lang))
    .map((b) => ({ line: b.line, mode: b.flags.includes('check-only') ? 'check-only' : 'run', code: b.code }))
}

/** Links (`[text](target)`, `<https://…>` excluded) whose target is relative: they break on the registry's page. */
export function relativeLinks (markdown: string): string[] {
  const prose = markdown.replace(/^( {0,3})(`{3,}|~{3,})[^\n]*\n[\s\S]*?\n {0,3}\2[^\n]*$/gm, '')
  const out: string[] = []
  for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1] ?? ''
    if (/^(https?:|mailto:|#)/i.test(target)) continue
    out.push(target)
  }
  for (const m of prose.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)) {
    const target = m[1] ?? ''
    if (!/^(https?:|mailto:|#)/i.test(target)) out.push(target)
  }
  return out
}

/**
 * Commands that only work inside this repository (its workspace tool, its build outputs), which a
 * user of the published package cannot run. Found in code spans and fenced blocks alike.
 */
const REPOSITORY_ONLY: Array<[RegExp, string]> = [
  [/\bpnpm\b[^\n`]*--filter\b/, 'pnpm --filter (a workspace command)'],
  [/\bnpx -y pnpm@/, 'the repository\'s pnpm'],
  [/\bpnpm (?:-r |--recursive )?(?:bench|demo|build|test)\b/, 'a repository script'],
  [/\bnpm run bench\b/, 'a benchmark that is not published'],
  [/\bnode (?:\.\/)?(?:dist|src|scripts)\//, 'a path inside the repository checkout'],
  [/\btsc -b\b/, 'the repository build']
]

export interface RepositoryOnlyCommand { line: number, text: string, why: string }

export function repositoryOnlyCommands (markdown: string): RepositoryOnlyCommand[] {
  const out: RepositoryOnlyCommand[] = []
  markdown.split(/\r?\n/).forEach((text, i) => {
    for (const [re, why] of REPOSITORY_ONLY) {
      if (re.test(text)) out.push({ line: i + 1, text: text.trim(), why })
    }
  })
  return out
}
