// Test harness: `bzzz` daemons as separate processes (the built CLI), on loopback TCP, against
// a forge. Each gets its own data directory, token file and ports.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { Forge } from '@bzzz/forge'

const exec = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))
export const APP_DIR = join(here, '..')
export const CLI = join(APP_DIR, 'dist', 'cli.js')

/** Builds apps/peer (and what it needs) so that dist/cli.js is current. */
export async function buildCli (): Promise<void> {
  await exec(process.execPath, [join(APP_DIR, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-b', APP_DIR], { cwd: APP_DIR })
}

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => { resolve(p) })
    })
  })
}

export interface DaemonProc {
  name: string
  dataDir: string
  configPath: string
  httpPort: number
  meshPort: number
  proc: ChildProcess | undefined
  lines: Array<Record<string, unknown>>
  stderr: string[]
  nodeId: string | undefined
  address: string | undefined
  env: NodeJS.ProcessEnv
  exited: Promise<number | null> | undefined
}

/** Fast timings for tests, as BZZZ_* variables (the lease stays the production default unless given). */
export function fastEnv (extra: Record<string, string> = {}): Record<string, string> {
  return {
    BZZZ_TIMINGS__PRESENCE_MS: '500',
    BZZZ_TIMINGS__WARM_UP_MS: '1500',
    BZZZ_TIMINGS__TICK_MS: '150',
    BZZZ_TIMINGS__SETTLE_MS: '300',
    BZZZ_TIMINGS__STANDBY_STEP_MS: '1000',
    BZZZ_TIMINGS__SUSPECT_AFTER_MS: '2500',
    BZZZ_TIMINGS__DEAD_AFTER_MS: '5000',
    BZZZ_TIMINGS__REPLICATE_MS: '2000',
    BZZZ_WATCH__INTERVAL_MS: '500',
    BZZZ_CAPABILITIES__DETECT: 'false',
    BZZZ_CAPABILITIES__INSTALLED: 'claude',
    BZZZ_LOG__LEVEL: 'info',
    ...extra
  }
}

export async function initDaemon (root: string, name: string, forge: Forge, options: { repos?: string[], env?: Record<string, string>, bootstrap?: string[] } = {}): Promise<DaemonProc> {
  const dataDir = join(root, name)
  const tokenFile = join(root, `${name}.token`)
  await writeFile(tokenFile, `tok-${name}\n`, { mode: 0o600 })
  const httpPort = await freePort()
  const meshPort = await freePort()
  const env: NodeJS.ProcessEnv = { ...process.env, ...fastEnv(options.env), BZZZ_DATA_DIR: dataDir }
  delete env.GITHUB_TOKEN
  const args = [
    CLI, 'init', '--data-dir', dataDir, '--name', name, '--token-file', tokenFile,
    '--api-url', forge.url, '--git-url', forge.url, '--listen', `/ip4/127.0.0.1/tcp/${meshPort}`, '--http-port', String(httpPort),
    '--git-name', `bzzz-${name}`, '--git-email', `${name}@bzzz.local`,
    ...(options.repos ?? ['acme/tasks']).flatMap((r) => ['--repo', r]),
    ...(options.bootstrap ?? []).flatMap((b) => ['--bootstrap', b])
  ]
  await exec(process.execPath, args, { env })
  return { name, dataDir, configPath: join(dataDir, 'config.yaml'), httpPort, meshPort, proc: undefined, lines: [], stderr: [], nodeId: undefined, address: undefined, env, exited: undefined }
}

/** Starts `bzzz start`; resolves once it logged `daemon:started`. */
export async function startDaemonProc (d: DaemonProc, extraEnv: Record<string, string> = {}): Promise<void> {
  const proc = spawn(process.execPath, [CLI, 'start'], { env: { ...d.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] })
  d.proc = proc
  d.exited = new Promise((resolve) => { proc.once('exit', (code) => { resolve(code) }) })
  let buf = ''
  proc.stdout.setEncoding('utf8')
  proc.stderr.setEncoding('utf8')
  proc.stderr.on('data', (chunk: string) => { d.stderr.push(chunk) })
  const started = new Promise<void>((resolve, reject) => {
    proc.once('exit', (code) => { reject(new Error(`${d.name} exited with ${String(code)}: ${d.stderr.join('')}`)) })
    proc.stdout.on('data', (chunk: string) => {
      buf += chunk
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        try {
          const obj = JSON.parse(line) as Record<string, unknown>
          d.lines.push(obj)
          if (obj.event === 'daemon:started') {
            d.nodeId = obj.nodeId as string
            d.address = (obj.addresses as string[]).find((a) => a.includes('127.0.0.1'))
            resolve()
          }
        } catch {
          d.stderr.push(line)
        }
      }
    })
  })
  await started
}

/** Runs a `bzzz` command against a daemon's configuration. */
export async function bzzz (d: DaemonProc, args: string[], options: { env?: Record<string, string> } = {}): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, '--config', d.configPath, ...args], { env: { ...d.env, ...options.env }, timeout: 60_000 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number, stdout?: string, stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

export async function tempRoot (): Promise<string> {
  return await mkdtemp(join(tmpdir(), 'bzzz-daemons-'))
}

export async function cleanup (root: string, daemons: DaemonProc[]): Promise<void> {
  for (const d of daemons) {
    if (d.proc !== undefined && d.proc.exitCode === null && d.proc.signalCode === null) {
      d.proc.kill('SIGKILL')
      await d.exited
    }
  }
  await rm(root, { recursive: true, force: true })
}

export function events (d: DaemonProc, name: string): Array<Record<string, unknown>> {
  return d.lines.filter((l) => l.event === name)
}

/**
 * What each daemon said about a task (its events and warnings), as text for a failed test's
 * output: a fault test that times out on CI says where the task stopped.
 */
export function transcript (daemons: readonly DaemonProc[], key: string, max = 80): string {
  return daemons.map((d) => {
    const about = d.lines.filter((l) => l.key === key || l.task === key || (typeof l.level === 'number' && l.level >= 40) || l.level === 'warn' || l.level === 'error')
    const text = about.slice(-max).map((l) => JSON.stringify(l)).join('\n')
    const err = d.stderr.join('').slice(-2000)
    return `--- ${d.name} (${d.nodeId ?? '?'}), exit ${String(d.proc?.exitCode ?? d.proc?.signalCode ?? 'running')}\n${text}${err === '' ? '' : `\nstderr: ${err}`}`
  }).join('\n')
}

/** GET from a daemon's HTTP interface. */
export async function api<T> (d: DaemonProc, path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}${path}`)
  return await res.json() as T
}
