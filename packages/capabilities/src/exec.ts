import { spawn } from 'node:child_process'
import { constants } from 'node:fs'
import { access, stat } from 'node:fs/promises'
import { delimiter, isAbsolute, join } from 'node:path'

/**
 * Finds `command` on `PATH` the way a shell does: the first entry holding an executable
 * regular file of that name. A name with a slash is checked as a path. Windows tries each
 * `PATHEXT` extension. Returns the absolute path, or `undefined` when not found.
 */
export async function findExecutable (command: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Promise<string | undefined> {
  if (command.length === 0) return undefined
  const windows = platform === 'win32'
  const exts = windows
    ? ['', ...(env.PATHEXT ?? env.Pathext ?? '.COM;.EXE;.BAT;.CMD').split(';').filter((e) => e.length > 0)]
    : ['']
  const candidates: string[] = []
  if (command.includes('/') || (windows && command.includes('\\'))) {
    if (!isAbsolute(command)) return undefined
    for (const ext of exts) candidates.push(command + ext)
  } else {
    const path = env.PATH ?? env.Path ?? ''
    for (const dir of path.split(windows ? ';' : delimiter)) {
      if (dir.length === 0 || !isAbsolute(dir)) continue
      for (const ext of exts) candidates.push(join(dir, command + ext))
    }
  }
  for (const candidate of candidates) {
    if (await isExecutableFile(candidate, windows)) return candidate
  }
  return undefined
}

async function isExecutableFile (path: string, windows: boolean): Promise<boolean> {
  try {
    const s = await stat(path)
    if (!s.isFile()) return false
    if (!windows) await access(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

export type CommandResult =
  | { kind: 'exited', code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }
  | { kind: 'timed-out', stdout: string, stderr: string }
  | { kind: 'spawn-failed', error: string }

export interface RunCommandOptions {
  env: NodeJS.ProcessEnv
  timeoutMs: number
  signal?: AbortSignal
  /** Output kept per stream; the rest is read and dropped. Default 64 KiB. */
  maxOutputBytes?: number
}

/**
 * Runs an executable (no shell) and collects its output. On timeout or abort the whole
 * process group is killed (POSIX), so a child that hangs, or leaves grandchildren holding
 * its pipes, cannot keep the probe waiting. Never rejects; an abort rejects with the
 * signal's reason.
 */
export async function runCommand (path: string, args: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
  options.signal?.throwIfAborted()
  const max = options.maxOutputBytes ?? 64 * 1024
  const posix = process.platform !== 'win32'
  return await new Promise<CommandResult>((resolve, reject) => {
    let settled = false
    const out: Buffer[] = []
    const err: Buffer[] = []
    let outLen = 0
    let errLen = 0
    const child = spawn(path, args, {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: posix,
      windowsHide: true
    })
    const killGroup = (): void => {
      try {
        if (posix && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
        else child.kill('SIGKILL')
      } catch {
        // already gone
      }
    }
    const text = (chunks: Buffer[]): string => Buffer.concat(chunks).toString('utf8')
    const finish = (result: CommandResult | Error): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      if (result instanceof Error) reject(result)
      else resolve(result)
    }
    const onAbort = (): void => {
      killGroup()
      child.stdout?.destroy()
      child.stderr?.destroy()
      finish(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'))
    }
    const timer = setTimeout(() => {
      killGroup()
      child.stdout?.destroy()
      child.stderr?.destroy()
      finish({ kind: 'timed-out', stdout: text(out), stderr: text(err) })
    }, options.timeoutMs)
    options.signal?.addEventListener('abort', onAbort, { once: true })
    child.stdout?.on('data', (chunk: Buffer) => {
      if (outLen < max) { out.push(chunk.subarray(0, max - outLen)); outLen += chunk.length }
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      if (errLen < max) { err.push(chunk.subarray(0, max - errLen)); errLen += chunk.length }
    })
    child.on('error', (error) => {
      finish({ kind: 'spawn-failed', error: (error as NodeJS.ErrnoException).code ?? error.message })
    })
    child.on('close', (code, signal) => {
      finish({ kind: 'exited', code, signal, stdout: text(out), stderr: text(err) })
    })
    // A process that exits but leaves a grandchild holding the pipes would delay 'close'
    // until the timeout; after 'exit', give the pipes a moment, then kill the group.
    child.on('exit', () => {
      setTimeout(() => {
        if (!settled) {
          killGroup()
          child.stdout?.destroy()
          child.stderr?.destroy()
        }
      }, 250).unref()
    })
  })
}

/** The first non-empty line of `text`, trimmed and cut to `max` characters. */
export function firstLine (text: string, max = 200): string {
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0) ?? ''
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}
