// The script a scripted model server answers from, and the pure logic that picks the reply for
// a request. The server is stateless per conversation: the reply to a request is chosen by how
// many assistant turns its history already holds, so retries, side requests (titles, token
// counts) and several CLIs at once never shift the script.

/** One model turn. */
export type ScriptAction =
  /** Write a file, through whichever file-writing tool the calling CLI offers (path relative to the workspace). */
  | { write: { path: string, content: string } }
  /** Run a shell command, through the calling CLI's shell tool. */
  | { shell: string }
  /** Call a tool by its exact name with exactly this input. */
  | { tool: { name: string, input: Record<string, unknown> } }
  /** A plain text turn without a tool call (for the Ollama adapter's loop: a diff to apply). */
  | { text: string }

export interface ModelScript {
  /** One turn each, in order; then `final`. */
  actions: ScriptAction[]
  /** The last assistant message, after every action. */
  final: string
  /** Tokens reported per reply (defaults: 100 in, 20 out). */
  usage?: { inputTokens: number, outputTokens: number }
  /** Wait this long before each model reply (a slow model; an agent that goes quiet). */
  delayMs?: number
}

/** A tool call in the wire-neutral form the encoders turn into each API's shape. */
export interface ToolCallReply { kind: 'tool', id: string, name: string, input: Record<string, unknown> }
export interface TextReply { kind: 'text', text: string }
export type Reply = ToolCallReply | TextReply

/** What the pure picker needs to know about a request, extracted by each API's decoder. */
export interface RequestView {
  /** Assistant (model) turns already in the conversation. */
  assistantTurns: number
  /** Names of the tools the request offers (empty: a side request such as a title). */
  tools: string[]
  /** All text of the request (system prompt and messages), to find the working directory. */
  text: string
}

export class ScriptToolUnavailableError extends Error {
  readonly wanted: string
  readonly offered: string[]
  constructor (wanted: string, offered: string[]) {
    super(`scripted ${wanted} action: the request offers no matching tool (offered: ${offered.slice(0, 30).join(', ')})`)
    this.name = 'ScriptToolUnavailableError'
    this.wanted = wanted
    this.offered = offered
  }
}

// Each CLI's file-writing and shell tools, as seen in their requests (see the README).
const WRITE_TOOLS: Array<{ name: string, input: (abs: string, rel: string, content: string) => Record<string, unknown> }> = [
  { name: 'Write', input: (abs, _rel, content) => ({ file_path: abs, content }) }, // claude
  { name: 'write_file', input: (abs, _rel, content) => ({ file_path: abs, content }) }, // gemini
  { name: 'write', input: (abs, _rel, content) => ({ filePath: abs, content }) } // opencode
]
const SHELL_TOOLS: Array<{ name: string, input: (command: string) => Record<string, unknown> }> = [
  { name: 'exec_command', input: (command) => ({ cmd: command }) }, // codex (unified exec)
  { name: 'shell_command', input: (command) => ({ command }) }, // codex
  { name: 'shell', input: (command) => ({ command: ['bash', '-lc', command] }) }, // codex (classic)
  { name: 'Bash', input: (command) => ({ command, description: 'scripted command' }) }, // claude
  { name: 'run_shell_command', input: (command) => ({ command }) }, // gemini
  { name: 'bash', input: (command) => ({ command, description: 'scripted command' }) } // opencode
]

/** A shell command that writes `content` to `path` exactly (no shell expansion of the content). */
export function shellWrite (path: string, content: string): string {
  const b64 = Buffer.from(content, 'utf8').toString('base64')
  const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`
  const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : ''
  const write = `printf %s '${b64}' | base64 -d > ${quote(path)}`
  return dir === '' ? write : `mkdir -p ${quote(dir)} && ${write}`
}

const CWD_PATTERNS = [
  /Workspace Directories:\**\s*-\s*(\/[^\s`'"<>]+)/, // gemini
  /Primary working directory:\s*(\/[^\s`'"<>]+)/,
  /Working directory:\s*(\/[^\s`'"<>]+)/i,
  /<cwd>\s*(\/[^\s<]+)\s*<\/cwd>/,
  /current working directory(?: is|:)?\s*[`'"]?(\/[^\s`'"<>]+)/i,
  /working directory(?: is|:)\s*[`'"]?(\/[^\s`'"<>]+)/i
]

/** The workspace the CLI runs in, as its request states it (system prompt or environment context). */
export function findWorkingDirectory (text: string): string | undefined {
  for (const pattern of CWD_PATTERNS) {
    const match = pattern.exec(text)
    if (match?.[1] != null) return match[1].replace(/[.,;:]+$/, '')
  }
  return undefined
}

function joinPath (root: string | undefined, rel: string): string {
  if (rel.startsWith('/')) return rel
  if (root == null) return rel
  return `${root.replace(/\/+$/, '')}/${rel}`
}

/**
 * The reply to one request: the action at the conversation's turn, resolved to a tool the request
 * offers, or the final text. A request that offers no tools (a title, a summary) gets a short text.
 */
export function pickReply (script: ModelScript, view: RequestView, options: { root?: string } = {}): Reply {
  const turn = view.assistantTurns
  const action = script.actions[turn]
  if (action == null) return { kind: 'text', text: script.final }
  if ('text' in action) return { kind: 'text', text: action.text }
  if (view.tools.length === 0) return { kind: 'text', text: 'Scripted task' }
  const id = `call_${turn}`
  if ('tool' in action) return { kind: 'tool', id, name: action.tool.name, input: action.tool.input }
  if ('write' in action) {
    const root = options.root ?? findWorkingDirectory(view.text)
    const tool = WRITE_TOOLS.find((t) => view.tools.includes(t.name))
    if (tool != null && root != null) {
      return { kind: 'tool', id, name: tool.name, input: tool.input(joinPath(root, action.write.path), action.write.path, action.write.content) }
    }
    const shell = SHELL_TOOLS.find((t) => view.tools.includes(t.name))
    if (shell != null) return { kind: 'tool', id, name: shell.name, input: shell.input(shellWrite(action.write.path, action.write.content)) }
    throw new ScriptToolUnavailableError('write', view.tools)
  }
  const shell = SHELL_TOOLS.find((t) => view.tools.includes(t.name))
  if (shell == null) throw new ScriptToolUnavailableError('shell', view.tools)
  return { kind: 'tool', id, name: shell.name, input: shell.input(action.shell) }
}
