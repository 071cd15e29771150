// Test helper: run a real agent CLI through its adapter against a scripted model server, in a
// loopback-only network namespace, on a fresh git workspace; collect its parsed events.
import { spawn } from 'node:child_process'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { AgentEvent, AgentRunSpec, CliAgentAdapter } from '../agent.js'
import { createScriptedModelServer, type RecordedRequest } from '../model-server/server.js'
import { inLoopbackNamespace, loopbackEnv } from '../model-server/netns.js'
import type { ModelScript } from '../model-server/script.js'

const PACKAGE = fileURLToPath(new URL('../..', import.meta.url))
const BIN = join(PACKAGE, 'node_modules', '.bin')

export interface CliRun {
  code: number | null
  events: AgentEvent[]
  stdout: string
  stderr: string
  requests: RecordedRequest[]
  workspace: string
  ms: number
}

export async function git (cwd: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { out += d.toString() })
    child.on('error', reject)
    child.on('close', (code) => code === 0 ? resolve(out) : reject(new Error(`git ${args.join(' ')}: ${out}`)))
  })
}

export async function makeWorkspace (root: string): Promise<string> {
  const ws = join(root, 'ws')
  await mkdir(ws, { recursive: true })
  await git(ws, 'init', '-q', '-b', 'main')
  await writeFile(join(ws, 'README.md'), '# scripted\n')
  await git(ws, 'add', '.')
  await git(ws, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'init')
  return ws
}

export async function runCli (
  adapter: CliAgentAdapter,
  options: { script: ModelScript, spec?: Partial<AgentRunSpec>, env?: Record<string, string>, timeoutMs?: number }
): Promise<CliRun> {
  const root = await mkdtemp(join(tmpdir(), `bzzz-${adapter.name}-`))
  const home = join(root, 'home')
  await mkdir(home)
  const workspace = await makeWorkspace(root)
  const socketPath = join(root, 'model.sock')
  const server = createScriptedModelServer({ script: options.script, socketPath })
  await server.start()
  try {
    const spec: AgentRunSpec = {
      prompt: 'Do the scripted task.',
      cwd: workspace,
      ...options.spec,
      endpoint: { baseUrl: server.url, apiKeyEnv: 'SCRIPTED_API_KEY', ...options.spec?.endpoint }
    }
    const command = adapter.command(spec)
    const wrapped = inLoopbackNamespace(command)
    const env: Record<string, string> = {
      PATH: `${dirname(process.execPath)}:${BIN}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
      HOME: home,
      LANG: 'C.UTF-8',
      SCRIPTED_API_KEY: 'scripted-key',
      ...command.env,
      ...options.env,
      ...loopbackEnv([{ port: server.port, socketPath }])
    }
    const outFile = join(root, 'stdout.jsonl')
    const out = createWriteStream(outFile)
    await new Promise((resolve) => out.on('open', resolve))
    const started = Date.now()
    const child = spawn(wrapped.file, wrapped.args, { cwd: workspace, env, stdio: ['ignore', out, 'pipe'] })
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-20_000) })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
    clearTimeout(timer)
    const ms = Date.now() - started
    out.close()
    const parse = adapter.parser()
    const events: AgentEvent[] = []
    const lines = createInterface({ input: createReadStream(outFile), crlfDelay: Infinity })
    for await (const line of lines) events.push(...parse(line))
    const stdout = await readFile(outFile, 'utf8')
    return { code, events, stdout, stderr, requests: server.requests, workspace, ms }
  } finally {
    await server.stop()
    setTimeout(() => { void rm(root, { recursive: true, force: true }) }, 0)
  }
}

export async function cleanup (run: CliRun): Promise<void> {
  await rm(dirname(run.workspace), { recursive: true, force: true })
}
