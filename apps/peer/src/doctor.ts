// `bzzz doctor`: checks what a node needs and says what to fix. A failed check makes the
// command exit non-zero; a warning does not.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { DEFAULT_CLIS, ollamaBaseUrl } from '@bzzz/capabilities'
import { createGitHubClient, type GitHubClient } from '@bzzz/github'
import { multiaddr } from '@multiformats/multiaddr'
import type { Config } from './config-schema.js'
import { checkForge } from './daemon.js'
import { expandRepos } from './repos.js'
import { httpTokenPath, resolveGitHubToken } from './secrets.js'

const run = promisify(execFile)

export type CheckStatus = 'ok' | 'warn' | 'fail'

export interface Check {
  name: string
  status: CheckStatus
  detail: string
  /** What to do about it, when not ok. */
  fix?: string
}

export interface DoctorInit {
  config: Config
  env?: NodeJS.ProcessEnv
  /** Limit for each probe. Default 5000 ms. */
  timeoutMs?: number
  /** The local daemon answers (its ports are its own). */
  daemonRunning?: boolean
}

async function portFree (host: string, port: number): Promise<boolean> {
  if (port === 0) return true
  return await new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => { resolve(false) })
    s.listen(port, host, () => { s.close(() => { resolve(true) }) })
  })
}

async function fileMode (path: string): Promise<number | undefined> {
  try { return (await stat(path)).mode & 0o777 } catch { return undefined }
}

interface RepoData { permissions?: { pull?: boolean, push?: boolean, triage?: boolean }, name: string }

async function repoChecks (client: GitHubClient, login: string, config: Config, signal: AbortSignal): Promise<Check[]> {
  const out: Check[] = []
  let repos: string[]
  try {
    repos = await expandRepos(client, config.repos, { signal })
  } catch (err) {
    return [{ name: 'repositories', status: 'fail', detail: `cannot list ${config.repos.join(', ')}: ${(err as Error).message}`, fix: 'check the owner/* patterns and the token\'s access' }]
  }
  if (repos.length === 0) out.push({ name: 'repositories', status: 'warn', detail: 'no watched repositories', fix: 'add repos: [owner/name] to the configuration' })
  for (const repo of repos.slice(0, 20)) {
    const [owner, name] = repo.split('/') as [string, string]
    try {
      const res = await client.request('GET /repos/{owner}/{repo}', { owner, repo: name }, { signal })
      const p = (res.data as RepoData).permissions
      const read = p?.pull !== false
      out.push(read
        ? { name: `repo ${repo}`, status: 'ok', detail: `readable${p?.push === true ? ', writable' : ''}` }
        : { name: `repo ${repo}`, status: 'fail', detail: 'the token cannot read it', fix: 'give the token read access to its issues and contents' })
    } catch (err) {
      out.push({ name: `repo ${repo}`, status: 'fail', detail: (err as Error).message, fix: 'check the name and the token\'s access' })
      continue
    }
    try {
      await client.request('GET /repos/{owner}/{repo}', { owner: login, repo: name }, { signal })
      out.push({ name: `fork ${login}/${name}`, status: 'ok', detail: 'exists' })
    } catch (err) {
      const status = (err as { status?: number }).status
      out.push(status === 404
        ? { name: `fork ${login}/${name}`, status: 'ok', detail: 'not yet: made on the first task (the token needs to create forks)' }
        : { name: `fork ${login}/${name}`, status: 'warn', detail: (err as Error).message })
    }
  }
  return out
}

export async function runDoctor (init: DoctorInit): Promise<Check[]> {
  const { config } = init
  const env = init.env ?? process.env
  const timeoutMs = init.timeoutMs ?? 5000
  const checks: Check[] = []
  const signal = AbortSignal.timeout(Math.max(30_000, timeoutMs * 6))

  // Secret files.
  const secretFiles = [
    { what: 'identity key', path: join(config.dataDir, 'identity.key') },
    { what: 'HTTP token', path: httpTokenPath(config.dataDir) },
    ...(config.github.tokenFile !== undefined ? [{ what: 'GitHub token file', path: config.github.tokenFile }] : []),
    ...(config.mesh.networkKeyFile !== undefined ? [{ what: 'network key', path: config.mesh.networkKeyFile }] : [])
  ]
  for (const f of secretFiles) {
    const mode = await fileMode(f.path)
    if (mode === undefined) {
      checks.push({ name: f.what, status: f.what === 'identity key' || f.what === 'HTTP token' ? 'warn' : 'fail', detail: `${f.path} is missing`, fix: 'run bzzz init (the key and token are also made on first start)' })
    } else if ((mode & 0o077) !== 0) {
      checks.push({ name: f.what, status: 'fail', detail: `${f.path} has mode ${mode.toString(8)}: readable by others`, fix: `chmod 600 ${f.path}` })
    } else {
      checks.push({ name: f.what, status: 'ok', detail: `${f.path} (mode ${mode.toString(8)})` })
    }
  }

  // Token, forge, repositories, forks, clock.
  let client: GitHubClient | undefined
  try {
    const token = await resolveGitHubToken(config.github, env)
    client = await createGitHubClient({ token, baseUrl: config.github.apiUrl, gitBaseUrl: config.github.gitUrl })
    const login = await checkForge(client, config.github.apiUrl, timeoutMs)
    checks.push({ name: 'GitHub token', status: 'ok', detail: `accepted by ${config.github.apiUrl} as ${login}` })
    const before = Date.now()
    const res = await client.request('GET /rate_limit', {}, { signal })
    const local = (before + Date.now()) / 2
    if (res.serverTime !== undefined) {
      const skew = Math.round((local - res.serverTime) / 1000)
      const abs = Math.abs(skew)
      checks.push(abs <= 5
        ? { name: 'clock', status: 'ok', detail: `within ${abs} s of GitHub's Date` }
        : { name: 'clock', status: abs <= 30 ? 'warn' : 'fail', detail: `${skew} s off GitHub's Date`, fix: 'enable NTP (timedatectl set-ntp true)' })
    }
    checks.push(...await repoChecks(client, login, config, signal))
  } catch (err) {
    checks.push({ name: 'GitHub token', status: 'fail', detail: (err as Error).message, fix: 'set github.tokenFile to a file holding a fine-grained token' })
  }

  // git and its identity.
  try {
    const { stdout } = await run('git', ['--version'], { timeout: timeoutMs })
    checks.push({ name: 'git', status: 'ok', detail: stdout.trim() })
  } catch {
    checks.push({ name: 'git', status: 'fail', detail: 'git is not installed', fix: 'apt-get install git' })
  }
  checks.push(config.git.name !== undefined && config.git.email !== undefined
    ? { name: 'git identity', status: 'ok', detail: `${config.git.name} <${config.git.email}>` }
    : { name: 'git identity', status: 'warn', detail: 'not set: commits use the GitHub login and its noreply address', fix: 'set git.name and git.email' })

  // Ollama.
  const ollama = ollamaBaseUrl(config.capabilities.ollamaHost ?? env.OLLAMA_HOST)
  try {
    const res = await fetch(`${ollama}/api/version`, { signal: AbortSignal.timeout(timeoutMs) })
    const v = await res.json() as { version?: string }
    checks.push({ name: 'ollama', status: 'ok', detail: `${ollama} version ${v.version ?? '?'}` })
  } catch {
    checks.push({ name: 'ollama', status: 'warn', detail: `no answer at ${ollama}`, fix: 'start ollama (systemctl start ollama) if this node should offer local models' })
  }

  // Agent CLIs: present, and answering with stdin closed (a CLI that waits for input hangs the node).
  for (const cli of DEFAULT_CLIS.filter((c) => c !== 'ollama')) {
    try {
      const { stdout } = await run(cli, ['--version'], { timeout: timeoutMs, env: { ...env, CI: '1' } })
      checks.push({ name: `cli ${cli}`, status: 'ok', detail: `${stdout.trim().split('\n')[0] ?? ''} (answers non-interactively)` })
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { killed?: boolean }
      if (e.code === 'ENOENT') checks.push({ name: `cli ${cli}`, status: 'ok', detail: 'not installed' })
      else if (e.killed === true) checks.push({ name: `cli ${cli}`, status: 'fail', detail: `did not answer --version within ${timeoutMs / 1000} s with stdin closed`, fix: `run ${cli} once by hand to finish its setup (login, trust prompts)` })
      else checks.push({ name: `cli ${cli}`, status: 'warn', detail: `--version failed: ${e.message.split('\n')[0] ?? ''}` })
    }
  }

  // Ports.
  if (config.http.enabled) {
    const free = init.daemonRunning === true || await portFree(config.http.host, config.http.port)
    checks.push(free
      ? { name: 'http port', status: 'ok', detail: `${config.http.host}:${config.http.port}${init.daemonRunning === true ? ' (the daemon)' : ' free'}` }
      : { name: 'http port', status: 'fail', detail: `${config.http.host}:${config.http.port} is in use`, fix: 'set http.port to a free port' })
  }
  for (const addr of config.mesh.listen) {
    const m = /^\/(ip4|ip6|dns4|dns6|dns)\/([^/]+)\/tcp\/(\d+)/.exec(addr)
    if (m === null) continue
    try {
      multiaddr(addr)
      const free = init.daemonRunning === true || await portFree(m[2]!, Number(m[3]))
      checks.push(free
        ? { name: 'mesh port', status: 'ok', detail: `${addr}${init.daemonRunning === true ? ' (the daemon)' : ' free'}` }
        : { name: 'mesh port', status: 'fail', detail: `${addr} is in use`, fix: 'set mesh.listen to a free port' })
    } catch {
      checks.push({ name: 'mesh port', status: 'fail', detail: `${addr} is not a TCP multiaddr` })
    }
  }

  // Finding peers: mDNS needs a multicast-capable, non-loopback interface; otherwise bootstrap peers.
  const lan = Object.entries(networkInterfaces()).flatMap(([name, addrs]) => (addrs ?? []).filter((a) => !a.internal && a.family === 'IPv4').map((a) => `${name} ${a.address}`))
  if (config.mesh.mdns) {
    checks.push(lan.length > 0
      ? { name: 'mdns', status: 'ok', detail: `on; LAN interfaces: ${lan.join(', ')} (multicast UDP 5353 must pass between peers)` }
      : { name: 'mdns', status: 'fail', detail: 'on, but there is no non-loopback IPv4 interface', fix: 'list bootstrap peers instead (mesh.bootstrap)' })
  } else {
    checks.push(config.mesh.bootstrap.length > 0
      ? { name: 'peer discovery', status: 'ok', detail: `mdns off; ${config.mesh.bootstrap.length} bootstrap peer(s)` }
      : { name: 'peer discovery', status: 'warn', detail: `mdns off and no bootstrap peers: this node finds nobody unless others dial it${lan.length > 0 ? ' (mdns could work here)' : ''}`, fix: 'set mesh.bootstrap or mesh.mdns: true' })
  }
  checks.push(existsSync(config.dataDir)
    ? { name: 'data directory', status: 'ok', detail: config.dataDir }
    : { name: 'data directory', status: 'warn', detail: `${config.dataDir} does not exist yet`, fix: 'run bzzz init' })
  return checks
}
