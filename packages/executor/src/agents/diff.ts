// Pure helpers for the Ollama adapter's edit loop: find the unified diff in a model's reply and
// the paths it touches.

/** The first unified diff in a reply: a ```diff (or ```patch) fenced block, else bare `--- `/`+++ ` lines. */
export function extractDiff (reply: string): string | undefined {
  const fenced = /```(?:diff|patch)[^\n]*\n([\s\S]*?)```/.exec(reply)
  const body = fenced?.[1] ?? (/^(?:diff --git |--- )/m.test(reply) ? reply.slice(reply.search(/^(?:diff --git |--- )/m)) : undefined)
  if (body == null || !/^\+\+\+ /m.test(body) || !/^@@ /m.test(body)) return undefined
  return body.endsWith('\n') ? body : body + '\n'
}

function stripPrefix (path: string): string | undefined {
  const p = path.split('\t')[0]?.trim() ?? ''
  if (p === '/dev/null' || p === '') return undefined
  return p.replace(/^[ab]\//, '')
}

/** The files a unified diff changes (new names; deleted files by their old name). */
export function diffPaths (diff: string): string[] {
  const paths = new Set<string>()
  const lines = diff.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    if (!line.startsWith('--- ')) continue
    const next = lines[i + 1] ?? ''
    if (!next.startsWith('+++ ')) continue
    const path = stripPrefix(next.slice(4)) ?? stripPrefix(line.slice(4))
    if (path != null) paths.add(path)
  }
  return [...paths]
}
