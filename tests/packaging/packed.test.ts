// The packages as their users get them: every workspace package packed as pnpm publishes it,
// installed with npm into a fresh project, imported on its declared minimum Node.js and on
// Node.js 24, every README example type-checked (strict, skipLibCheck: false, against the shipped
// typings) and run. A README whose example breaks fails this test.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CACHE, ROOT, floorOf, nodeBinary, packAll, readTarball, run, workspacePackages, type WorkspacePackage } from './harness.js'
import { examples, type Example } from './markdown.js'
import { packageOf, problems, specifiers, type PackedPackage } from './tarball.js'

const CURRENT_NODE = process.execPath          // the repository's Node.js 24
const EXAMPLE_TIMEOUT_MS = 90_000

interface PackageExample extends Example { pkg: WorkspacePackage, file: string }

const packages = workspacePackages()
const allExamples: PackageExample[] = packages.flatMap((pkg) =>
  examples(pkg.readme ?? '').map((ex) => ({
    ...ex,
    pkg,
    file: `${pkg.manifest.name.replace(/^@/, '').replace('/', '-')}-L${ex.line}`
  })))

function floorOfPackage (name: string): string {
  const p = packages.find((q) => q.manifest.name === name)
  return floorOf(p?.manifest.engines?.node ?? '>=0')
}

function newer (a: string, b: string): string {
  const pa = a.split('.').map(Number); const pb = b.split('.').map(Number)
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) > (pb[i] ?? 0) ? a : b
  return a
}

/** An example needs the highest floor of its README's package and of every package it imports. */
function floorOfExample (ex: PackageExample): string {
  return specifiers(ex.code)
    .map(packageOf)
    .filter((s) => packages.some((p) => p.manifest.name === s))
    .reduce((acc, name) => newer(acc, floorOfPackage(name)), floorOfPackage(ex.pkg.manifest.name))
}

let work: string
let consumer: string
const tarballs = new Map<string, PackedPackage>()
const nodes = new Map<string, string>()        // version → binary
let diagnostics = ''

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'bzzz-packaging-'))
  // Kept between runs under node_modules/.cache (BZZZ_PACKAGING_FRESH=1: not): the third-party
  // packages the tarballs depend on, and TypeScript's incremental state, which saves most of
  // checking their typings again. The packages themselves are always installed anew.
  const packs = join(CACHE, 'packs')
  consumer = join(CACHE, 'consumer')
  if (process.env.BZZZ_PACKAGING_FRESH === '1') rmSync(consumer, { recursive: true, force: true })
  for (const stale of [packs, join(consumer, 'node_modules', '@bzzz'), join(consumer, 'package-lock.json'), join(consumer, 'src')]) {
    rmSync(stale, { recursive: true, force: true })
  }
  mkdirSync(packs, { recursive: true }); mkdirSync(join(consumer, 'src', 'examples'), { recursive: true })

  // Node.js binaries first: their download overlaps nothing else and is cached for the next run.
  const t0 = Date.now()
  const phase = (what: string): void => { console.log(`packaging: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`) }
  const floors = new Set([...packages.map((p) => floorOfPackage(p.manifest.name)), ...allExamples.map(floorOfExample)])
  for (const v of floors) nodes.set(v, await nodeBinary(v))

  phase('node binaries')
  const files = await packAll(packages, packs)
  phase('packed')
  for (const [name, file] of files) tarballs.set(name, await readTarball(file))

  // A fresh project, as a user makes one: the tarballs (and, through `overrides`, every
  // dependency between them) from disk, everything else from the registry.
  const deps = Object.fromEntries([...files].map(([name, file]) => [name, `file:${file}`]))
  const typesNode = (JSON.parse(readFileSync(join(ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8')) as { version: string }).version
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({
    name: 'bzzz-consumer', private: true, type: 'module',
    dependencies: { ...deps, '@types/node': typesNode },
    overrides: deps
  }, null, 2))
  const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: consumer, timeoutMs: 600_000 })
  if (install.code !== 0) throw new Error(`npm install of the tarballs failed:\n${install.stderr}`)
  phase('installed')

  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      // DOM: libp2p's typings use EventInit, JsonWebKey and AddEventListenerOptions.
      target: 'ES2023', lib: ['ES2024', 'DOM'], module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'],
      strict: true, skipLibCheck: false, rootDir: 'src', outDir: 'out', noEmitOnError: false, pretty: false,
      incremental: true, tsBuildInfoFile: 'tsconfig.tsbuildinfo'
    },
    include: ['src']
  }, null, 2))
  // Every package's public types, through its `types` export, with nothing skipped.
  writeFileSync(join(consumer, 'src', 'imports.ts'), packages.map((p, i) => `export * as p${i} from '${p.manifest.name}'\n`).join(''))
  copyFileSync(join(import.meta.dirname, 'fixtures', 'mistakes.ts'), join(consumer, 'src', 'mistakes.ts'))
  for (const ex of allExamples) writeFileSync(join(consumer, 'src', 'examples', `${ex.file}.ts`), ex.code)
  const tsc = await run(CURRENT_NODE, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer], { cwd: consumer, timeoutMs: 600_000 })
  diagnostics = tsc.stdout + tsc.stderr
  phase('type-checked')
}, 1_200_000)

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

/** The consumer's type errors in one file, each at its line in the README. */
function errorsIn (file: string, readme: string, firstLine: number): string[] {
  return diagnostics.split('\n')
    .filter((l) => l.startsWith(file))
    .map((l) => l.replace(/^[^(]+\((\d+),(\d+)\)/, (_, line: string, col: string) => `${readme}:${firstLine + Number(line)}:${col}`))
}

it('a consumer importing every package type-checks (strict, skipLibCheck: false), third-party typings included', () => {
  expect(diagnostics.split('\n').filter((l) => /error TS/.test(l) && !l.startsWith('src/examples/') && !l.startsWith('src/mistakes.ts'))).toEqual([])
})

it('easy mistakes do not type-check (fixtures/mistakes.ts: every @ts-expect-error is used)', () => {
  expect(errorsIn('src/mistakes.ts', 'tests/packaging/fixtures/mistakes.ts', 0)).toEqual([])
})

// @bzzz/state's floor is where node:sqlite loads without a flag: just below it, the import fails.
it.runIf(packages.some((p) => p.manifest.name === '@bzzz/state'))('@bzzz/state\'s floor is real: on Node.js 22.12.0 its import fails (node:sqlite needs a flag there)', async () => {
  expect(floorOfPackage('@bzzz/state')).toBe('22.13.0')
  const r = await run(await nodeBinary('22.12.0'), ['--input-type=module', '-e', "await import('@bzzz/state')"], { cwd: consumer, timeoutMs: 60_000 })
  expect(r.code).not.toBe(0)
  expect(r.stderr).toMatch(/ERR_UNKNOWN_BUILTIN_MODULE/)
}, 300_000)

describe.each(packages.map((p) => [p.manifest.name, p] as const))('%s', (name, pkg) => {
  it('packs whole: LICENSE, no in-repository condition, nothing named that is not shipped', () => {
    const packed = tarballs.get(name)
    expect(packed).toBeDefined()
    expect(problems(packed!)).toEqual([])
  })

  it('its typings check with strict and skipLibCheck: false', () => {
    expect(diagnostics.split('\n').filter((l) => l.includes(`node_modules/${name}/`))).toEqual([])
  })

  it('imports on its declared minimum Node.js and on Node.js 24', async () => {
    const floor = floorOfPackage(name)
    const bins = [...new Set([nodes.get(floor)!, CURRENT_NODE])]
    const script = [
      `import { createRequire } from 'node:module'`,
      `await import('${name}')`,
      `createRequire(import.meta.url).resolve('${name}/package.json')`
    ].join('\n')
    const runs = await Promise.all(bins.map(async (bin) => await run(bin, ['--input-type=module', '-e', script], { cwd: consumer, timeoutMs: 60_000 })))
    runs.forEach((r, i) => { expect(r.code, `${bins[i]!}: ${r.stderr}`).toBe(0) })
  }, 120_000)

  const own = allExamples.filter((ex) => ex.pkg === pkg)
  if (own.length > 0) it.each(own.map((ex) => [ex.line, ex.mode, ex] as const))(`README.md example at line %i (%s)`, async (_line, mode, ex) => {
    const readme = `${pkg.dir}/README.md`
    expect(errorsIn(`src/examples/${ex.file}.ts`, readme, ex.line)).toEqual([])
    if (mode === 'check-only') return
    // On the floor and on Node.js 24 at once (each example is a few seconds of mostly waiting).
    const versions = [...new Set([floorOfExample(ex), process.versions.node])]
    const runs = await Promise.all(versions.map(async (version) => {
      const bin = version === process.versions.node ? CURRENT_NODE : nodes.get(version)!
      const cwd = mkdtempSync(join(work, 'run-'))
      return await run(bin, [join(consumer, 'out', 'examples', `${ex.file}.js`)], { cwd, timeoutMs: EXAMPLE_TIMEOUT_MS })
    }))
    runs.forEach((r, i) => {
      expect(r.code, `${readme}:${ex.line} on Node.js ${versions[i]!}${r.timedOut ? ' (timed out)' : ''}:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`).toBe(0)
    })
  }, EXAMPLE_TIMEOUT_MS + 10_000)
})
