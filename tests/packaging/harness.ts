// The I/O of the packaging test: find the workspace's packages, pack them as pnpm publishes them,
// read a tarball back, fetch a given Node.js from the npm registry (cached), and run commands.
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PackageManifest, PackedPackage } from './tarball.js'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** Node.js binaries fetched for the test, kept between runs. */
export const CACHE = join(ROOT, 'node_modules', '.cache', 'bzzz-packaging')

export interface WorkspacePackage {
  /** `packages/state` */
  dir: string
  manifest: PackageManifest & { private?: boolean }
  readme: string | undefined
}

/** Every package under packages/* and apps/* (whatever exists now: new ones are covered without edits). */
export function workspacePackages (): WorkspacePackage[] {
  return ['packages', 'apps'].flatMap((group) => {
    const groupDir = join(ROOT, group)
    if (!existsSync(groupDir)) return []
    return readdirSync(groupDir).sort().flatMap((name) => {
      const dir = join(group, name)
      const manifestPath = join(ROOT, dir, 'package.json')
      if (!existsSync(manifestPath)) return []
      const readmePath = join(ROOT, dir, 'README.md')
      return [{
        dir,
        manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as WorkspacePackage['manifest'],
        readme: existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : undefined
      }]
    })
  })
}

/** The file name `pnpm pack` gives a package's tarball. */
export function tarballName (m: PackageManifest): string {
  return `${m.name.replace(/^@/, '').replace('/', '-')}-${m.version ?? '0.0.0'}.tgz`
}

export interface RunResult { code: number | null, stdout: string, stderr: string, timedOut: boolean }

/** Runs a command to its end (never throws for a non-zero exit). */
export async function run (file: string, args: string[], opts: { cwd: string, timeoutMs: number, env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return await new Promise((resolve) => {
    execFile(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string, killed?: boolean }) | null
      resolve({
        code: e === null ? 0 : typeof e.code === 'number' ? e.code : 1,
        stdout: String(stdout),
        stderr: String(stderr) + (e !== null && typeof e.code === 'string' ? `\n${e.message}` : ''),
        timedOut: e?.killed === true
      })
    })
  })
}

function must (what: string, r: RunResult): RunResult {
  if (r.code !== 0) throw new Error(`${what} failed (${r.timedOut ? 'timed out' : `exit ${String(r.code)}`}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`)
  return r
}

/** Packs every package as `pnpm publish` would (its `prepack` build, `publishConfig` applied) into `dest`. */
export async function packAll (packages: WorkspacePackage[], dest: string): Promise<Map<string, string>> {
  const filters = packages.flatMap((p) => ['--filter', `./${p.dir}`])
  must('pnpm pack', await run('npx', ['-y', 'pnpm@12', '-r', '--workspace-concurrency=1', ...filters, 'pack', '--pack-destination', dest], { cwd: ROOT, timeoutMs: 600_000 }))
  return new Map(packages.map((p) => {
    const file = join(dest, tarballName(p.manifest))
    if (!existsSync(file)) throw new Error(`pnpm pack made no ${file} for ${p.dir}`)
    return [p.manifest.name, file]
  }))
}

function walk (dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path, base) : [relative(base, path).split('\\').join('/')]
  })
}

/** A tarball's manifest and files (text), as a user's package manager unpacks it. */
export async function readTarball (file: string): Promise<PackedPackage> {
  const dir = mkdtempSync(join(tmpdir(), 'bzzz-tarball-'))
  try {
    must('tar', await run('tar', ['-xzf', file, '-C', dir], { cwd: dir, timeoutMs: 60_000 }))
    const root = join(dir, 'package')
    const files = new Map(walk(root).map((p) => [p, readFileSync(join(root, p), 'utf8')]))
    return { manifest: JSON.parse(files.get('package.json') ?? '{}') as PackageManifest, files }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The lowest version an `engines.node` range allows (`>=22.13.0 <23 || >=23.4.0` → `22.13.0`). */
export function floorOf (range: string): string {
  const floors = range.split('||').map((alt) => {
    const m = /(?:>=|\^|~|^\s*)v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(alt.trim())
    if (m === null) throw new Error(`engines.node "${range}": no lower bound in "${alt}"`)
    return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] as const
  })
  floors.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2])
  const [maj, min, pat] = floors[0] ?? [0, 0, 0]
  return `${maj}.${min}.${pat}`
}

/** A Node.js binary of exactly `version`, from the `node` package on the npm registry, cached under node_modules/.cache. */
export async function nodeBinary (version: string): Promise<string> {
  const dir = join(CACHE, `node-${version}`)
  const bin = join(dir, 'node_modules', 'node', 'bin', process.platform === 'win32' ? 'node.exe' : 'node')
  if (existsSync(bin)) return bin
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true }))
  must(`npm install node@${version}`, await run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `node@${version}`], { cwd: dir, timeoutMs: 300_000 }))
  const v = must('node --version', await run(bin, ['--version'], { cwd: dir, timeoutMs: 30_000 })).stdout.trim()
  if (v !== `v${version}`) throw new Error(`node@${version} from the registry says ${v}`)
  return bin
}
