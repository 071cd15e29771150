// How an agent's whole process tree is contained and ended. With a PID namespace
// (`unshare --pid --fork --kill-child`, root or a user namespace) the agent is PID 1's child
// there: killing `unshare` kills PID 1 and the kernel ends every process in the namespace,
// including those that called `setsid`. The fallback is a process group, which misses
// processes that left it (documented in the README). `bwrap`, when asked for, runs inside.
import { execFile } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { SandboxUnavailableError } from './errors.js'

export type Containment = 'pid-namespace' | 'process-group'

const tools = new Map<string, string>()
/** `unshare` and `bwrap` by absolute path, found on the executor's own PATH: the agent's PATH may lack them. */
export function toolPath (name: string): string {
  let found = tools.get(name)
  if (found === undefined) {
    found = name
    for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
      if (dir === '') continue
      try {
        accessSync(join(dir, name), constants.X_OK)
        found = join(dir, name)
        break
      } catch { /* not here */ }
    }
    tools.set(name, found)
  }
  return found
}

async function works (file: string, args: string[]): Promise<boolean> {
  return await new Promise((resolve) => {
    execFile(file, args, { timeout: 5000 }, (err) => { resolve(err === null) })
  })
}

let probed: Promise<Containment> | undefined

/** Probes once whether a PID namespace can be made here. */
export async function detectContainment (): Promise<Containment> {
  probed ??= works('unshare', ['--pid', '--fork', '--kill-child', 'true']).then((ok) => ok ? 'pid-namespace' : 'process-group')
  return await probed
}

let bwrapProbe: Promise<boolean> | undefined

/** Throws `SandboxUnavailableError` unless bubblewrap runs here. */
export async function assertBwrap (): Promise<void> {
  bwrapProbe ??= works('bwrap', ['--ro-bind', '/', '/', '--dev', '/dev', 'true'])
  if (!await bwrapProbe) throw new SandboxUnavailableError('bwrap', 'not installed, or namespaces are not allowed here (Debian package: bubblewrap)')
}

export interface SandboxSpec {
  /** The only writable paths (the workspace). */
  writable: readonly string[]
  /** Readable only (e.g. the shared object store of the workspace's clone). */
  readable: readonly string[]
  /** Covered by an empty tmpfs, so that nothing in them can be read (the peer's data directory). Writable/readable paths inside it are bound again. */
  hidden: readonly string[]
  cwd: string
}

/** bubblewrap's arguments: the whole system read-only, `/tmp` private, the data dir hidden, the workspace writable. */
export function bwrapArgs (spec: SandboxSpec, programs: readonly string[] = []): string[] {
  const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--die-with-parent']
  // A program installed below /tmp (a checkout there) stays visible, read-only: its top directory
  // under /tmp is bound again (a CLI's launcher reaches into its package and its Node.js).
  const underTmp = new Set(programs.filter((p) => p.startsWith('/tmp/')).map((p) => `/tmp/${p.split('/')[2]!}`).filter((d) => existsSync(d)))
  for (const dir of underTmp) args.push('--ro-bind', dir, dir)
  for (const h of spec.hidden) args.push('--tmpfs', h)
  for (const r of spec.readable) args.push('--ro-bind', r, r)
  for (const w of spec.writable) args.push('--bind', w, w)
  args.push('--chdir', spec.cwd, '--')
  return args
}

/** The argv that runs `file args` contained (and sandboxed, when `sandbox` is given; `programs`: the file and the PATH it is looked up on). */
export function containedArgv (file: string, args: readonly string[], containment: Containment, sandbox: SandboxSpec | undefined, programs: readonly string[] = [file]): [string, string[]] {
  const inner = sandbox === undefined ? [file, ...args] : [toolPath('bwrap'), ...bwrapArgs(sandbox, programs), file, ...args]
  if (containment === 'pid-namespace') return [toolPath('unshare'), ['--pid', '--fork', '--kill-child', ...inner]]
  const [head, ...rest] = inner
  return [head!, rest]
}
