import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_CLIS, parseVersion, probeCli, probeClis } from './clis.js'
import { findExecutable, runCommand } from './exec.js'

let dir: string
let bin: string
let env: NodeJS.ProcessEnv

async function script (name: string, body: string, mode = 0o755): Promise<string> {
  const path = join(bin, name)
  await writeFile(path, `#!/bin/sh\n${body}\n`)
  await chmod(path, mode)
  return path
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function until (cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

async function readPid (file: string): Promise<number> {
  const { readFile } = await import('node:fs/promises')
  let text = ''
  await until(async () => {
    text = await readFile(file, 'utf8').catch(() => '')
    return text.trim().length > 0
  })
  return Number(text.trim())
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bzzz-caps-clis-'))
  bin = join(dir, 'bin')
  await mkdir(bin)
  env = { PATH: `${bin}:/usr/bin:/bin`, HOME: dir }
  await script('claude', 'echo "1.0.67 (Claude Code)"')
  await script('gemini', 'echo "0.1.18"')
  await script('codex', 'echo "codex-cli 0.20.0"')
  await script('ollama', 'echo "Warning: could not connect to a running Ollama instance" >&2\necho "Warning: client version is 0.11.4" >&2')
  await script('aider', 'echo "no version here"')
  // Exits with an error.
  await script('broken', 'echo "Error: cannot find module ./cli.js" >&2\nexit 3')
  // Hangs on --version and writes its pid so the test can see it was killed.
  await script('hangs', `echo $$ > "${dir}/hangs.pid"\nexec sleep 1000`)
  // Hangs, and leaves a grandchild holding its pipes.
  await script('forks', `sleep 1000 &\necho $! > "${dir}/forks-child.pid"\nwait`)
  // Present but not executable, and a directory with a CLI's name.
  await script('opencode', 'echo 9.9.9', 0o644)
  await mkdir(join(bin, 'dircli'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('parseVersion', () => {
  it.each([
    ['1.0.67 (Claude Code)', '1.0.67'],
    ['codex-cli 0.20.0', '0.20.0'],
    ['ollama version is 0.11.4', '0.11.4'],
    ['Warning: client version is 0.11.4', '0.11.4'],
    ['aider 0.86.1', '0.86.1'],
    ['v22.11.0', '22.11.0'],
    ['opencode 0.3.110-beta.2\n', '0.3.110-beta.2'],
    ['tool 2.1', '2.1'],
    ['git version 2.39.5.', '2.39.5'],
    ['no version', undefined],
    ['build 42', undefined],
    ['abc1.2.3', undefined]
  ])('%j → %j', (text, version) => {
    expect(parseVersion(text)).toBe(version)
  })

  it('finds any dotted version after words without digits', () => {
    const word = fc.stringMatching(/^[A-Za-z:()-]{0,12}$/)
    const version = fc.tuple(fc.nat(999), fc.nat(999), fc.option(fc.nat(999), { nil: undefined }))
      .map(([a, b, c]) => (c === undefined ? `${a}.${b}` : `${a}.${b}.${c}`))
    fc.assert(fc.property(fc.array(word, { maxLength: 4 }), fc.boolean(), version, fc.array(word, { maxLength: 3 }), (before, v, ver, after) => {
      const text = [...before, `${v ? 'v' : ''}${ver}`, ...after].join(' ')
      expect(parseVersion(text)).toBe(ver)
    }))
  })

  it('never throws and answers a short digit-led string or nothing', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => {
      const v = parseVersion(text)
      if (v !== undefined) {
        expect(v).toMatch(/^\d+\.\d+/)
        expect(text).toContain(v)
      }
    }))
  })
})

describe('findExecutable', () => {
  it('finds an executable file on the PATH', async () => {
    expect(await findExecutable('claude', env)).toBe(join(bin, 'claude'))
  })

  it('skips files that are not executable, directories, and relative PATH entries', async () => {
    expect(await findExecutable('opencode', env)).toBeUndefined()
    expect(await findExecutable('dircli', env)).toBeUndefined()
    expect(await findExecutable('claude', { PATH: `bin:.:${dir}` })).toBeUndefined()
  })

  it('takes the first PATH entry that has it', async () => {
    const second = join(dir, 'second')
    await mkdir(second, { recursive: true })
    await writeFile(join(second, 'gemini'), '#!/bin/sh\necho 5.0.0\n', { mode: 0o755 })
    expect(await findExecutable('gemini', { PATH: `${bin}:${second}` })).toBe(join(bin, 'gemini'))
    expect(await findExecutable('gemini', { PATH: `${second}:${bin}` })).toBe(join(second, 'gemini'))
  })

  it('checks an absolute path as given', async () => {
    expect(await findExecutable(join(bin, 'claude'), {})).toBe(join(bin, 'claude'))
    expect(await findExecutable(join(bin, 'nope'), {})).toBeUndefined()
  })
})

describe('probeCli', () => {
  const options = (): { env: NodeJS.ProcessEnv, timeoutMs: number } => ({ env, timeoutMs: 1500 })

  it('reports a CLI that answers, with its path and version', async () => {
    expect(await probeCli({ name: 'claude' }, options())).toEqual({ name: 'claude', available: true, path: join(bin, 'claude'), version: '1.0.67' })
    // ollama prints its version on stderr when no server runs.
    expect(await probeCli({ name: 'ollama' }, options())).toMatchObject({ available: true, version: '0.11.4' })
  })

  it('reports a CLI that prints no version as available without one', async () => {
    const state = await probeCli({ name: 'aider' }, options())
    expect(state).toEqual({ name: 'aider', available: true, path: join(bin, 'aider') })
  })

  it('reports a missing CLI as not installed', async () => {
    const state = await probeCli({ name: 'nowhere' }, options())
    expect(state).toMatchObject({ name: 'nowhere', available: false, absence: { reason: 'not-installed' } })
    expect(await probeCli({ name: 'opencode' }, options())).toMatchObject({ available: false, absence: { reason: 'not-installed' } })
  })

  it('reports a CLI that exits with an error as failed, with its exit code and message', async () => {
    const state = await probeCli({ name: 'broken' }, options())
    expect(state).toMatchObject({ name: 'broken', available: false, path: join(bin, 'broken'), absence: { reason: 'failed' } })
    if (state.available) throw new Error('unreachable')
    expect(state.absence.detail).toContain('exit code 3')
    expect(state.absence.detail).toContain('cannot find module')
  })

  it('cuts off a CLI that hangs, and kills it', async () => {
    const started = Date.now()
    const state = await probeCli({ name: 'hangs' }, { env, timeoutMs: 800 })
    expect(Date.now() - started).toBeGreaterThanOrEqual(750)
    expect(state).toMatchObject({ name: 'hangs', available: false, absence: { reason: 'timed-out' } })
    const pid = await readPid(join(dir, 'hangs.pid'))
    await until(() => !alive(pid))
  })

  it('kills the grandchildren of a CLI that hangs too', async () => {
    const state = await probeCli({ name: 'forks' }, { env, timeoutMs: 800 })
    expect(state).toMatchObject({ available: false, absence: { reason: 'timed-out' } })
    const pid = await readPid(join(dir, 'forks-child.pid'))
    await until(() => !alive(pid))
  })

  it('uses another executable and arguments when told', async () => {
    const state = await probeCli({ name: 'gemini-cli', command: 'codex', args: ['-V'] }, options())
    expect(state).toMatchObject({ name: 'gemini-cli', available: true, version: '0.20.0' })
  })

  it('stops at once on abort, killing the CLI', async () => {
    const controller = new AbortController()
    const pidFile = join(dir, 'hangs.pid')
    await rm(pidFile, { force: true })
    const p = probeCli({ name: 'hangs' }, { env, timeoutMs: 60_000, signal: controller.signal })
    const pid = await readPid(pidFile)
    controller.abort(new Error('stop'))
    await expect(p).rejects.toThrow('stop')
    await until(() => !alive(pid))
  })
})

describe('probeClis', () => {
  it('probes the default list at once, keeping its order', async () => {
    const started = Date.now()
    const states = await probeClis(DEFAULT_CLIS.map((name) => ({ name })), { env, timeoutMs: 5000 })
    expect(states.map((s) => s.name)).toEqual([...DEFAULT_CLIS])
    expect(states.map((s) => s.available)).toEqual([true, true, true, false, true, true])
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('runs the probes concurrently: two hanging CLIs are both running before either is cut off', async () => {
    await script('hang-a', `date +%s%N > "${dir}/a.start"\nexec sleep 1000`)
    await script('hang-b', `date +%s%N > "${dir}/b.start"\nexec sleep 1000`)
    const timeoutMs = 3000
    const states = await probeClis([{ name: 'hang-a' }, { name: 'hang-b' }], { env, timeoutMs })
    expect(states.every((s) => !s.available && s.absence.reason === 'timed-out')).toBe(true)
    const { readFile } = await import('node:fs/promises')
    const a = BigInt((await readFile(join(dir, 'a.start'), 'utf8')).trim())
    const b = BigInt((await readFile(join(dir, 'b.start'), 'utf8')).trim())
    const apartMs = Number((a > b ? a - b : b - a) / 1_000_000n)
    expect(apartMs).toBeLessThan(timeoutMs)
  })
})

describe('runCommand', () => {
  it('answers spawn-failed for an executable that cannot start', async () => {
    const path = join(bin, 'badinterp')
    await writeFile(path, '#!/nonexistent/interpreter\n', { mode: 0o755 })
    const result = await runCommand(path, [], { env, timeoutMs: 5000 })
    expect(result.kind).toBe('spawn-failed')
  })

  it('keeps at most maxOutputBytes of output', async () => {
    const path = await script('chatty', 'head -c 200000 /dev/zero | tr "\\0" x')
    const result = await runCommand(path, [], { env, timeoutMs: 10_000, maxOutputBytes: 1000 })
    expect(result.kind).toBe('exited')
    if (result.kind === 'exited') expect(result.stdout.length).toBe(1000)
  })
})
