// Whether a packed package is whole: nothing it names (exports, bin, types, scripts, source maps,
// imports) points at a file the tarball lacks, and it says nothing meant only for this repository.
// Pure: it takes the manifest and the files, as extracted.
import { builtinModules } from 'node:module'
import { posix } from 'node:path'

export interface PackedPackage {
  /** package.json as published. */
  manifest: PackageManifest
  /** Path inside the package (`dist/index.js`) → text. */
  files: ReadonlyMap<string, string>
}

export interface PackageManifest {
  name: string
  version?: string
  license?: string
  main?: string
  types?: string
  typings?: string
  bin?: string | Record<string, string>
  exports?: unknown
  scripts?: Record<string, string>
  engines?: Record<string, string>
  repository?: unknown
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}

/** Scripts the package manager runs in the repository only; npm never runs them for a user. */
const REPOSITORY_SCRIPTS = new Set(['prepack', 'postpack', 'prepublishOnly', 'prepublish', 'prepare', 'version'])
const BUILTINS = new Set(builtinModules)

/** Every path named by an `exports` value, with the condition path that leads to it. */
export function exportTargets (exports: unknown, at = 'exports'): Array<{ at: string, target: string }> {
  if (typeof exports === 'string') return [{ at, target: exports }]
  if (Array.isArray(exports)) return exports.flatMap((e, i) => exportTargets(e, `${at}[${i}]`))
  if (exports !== null && typeof exports === 'object') {
    return Object.entries(exports).flatMap(([k, v]) => exportTargets(v, `${at}["${k}"]`))
  }
  return []
}

function exportConditions (exports: unknown): string[] {
  if (exports === null || typeof exports !== 'object' || Array.isArray(exports)) return []
  return Object.entries(exports).flatMap(([k, v]) => [k, ...exportConditions(v)])
}

/** The package a bare specifier names: `@a/b/c` → `@a/b`, `x/y` → `x`. */
export function packageOf (specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0] ?? specifier
}

/** Module specifiers of an ES module or declaration file (static, dynamic and `import("…")` types). */
export function specifiers (code: string): string[] {
  const out: string[] = []
  const res = [
    /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?[^'";]*?\sfrom\s*['"]([^'"]+)['"]/g,
    /(?:^|[\s;}])import\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\/\/\/\s*<reference\s+types=['"]([^'"]+)['"]/g
  ]
  for (const re of res) for (const m of code.matchAll(re)) if (m[1] !== undefined) out.push(m[1])
  return out
}

function resolveIn (from: string, target: string): string {
  return posix.normalize(posix.join(posix.dirname(from), target))
}

function stripDot (p: string): string {
  return posix.normalize(p.replace(/^\.\//, ''))
}

/** What is wrong with a packed package; empty when nothing is. */
export function problems ({ manifest, files }: PackedPackage): string[] {
  const out: string[] = []
  const has = (p: string): boolean => files.has(stripDot(p))

  if (![...files.keys()].some((f) => /^licen[cs]e(\.md|\.txt)?$/i.test(f))) out.push('no LICENSE file')
  if (manifest.repository === undefined) out.push('no `repository` field')
  if (manifest.engines?.node === undefined) out.push('no `engines.node`')

  for (const c of exportConditions(manifest.exports)) {
    if (c.startsWith('@bzzz/')) out.push(`exports: the in-repository condition "${c}" is published`)
  }
  for (const { at, target } of exportTargets(manifest.exports)) {
    if (target.includes('*')) continue
    if (!has(target)) out.push(`${at}: ${target} is not in the tarball`)
  }
  if (exportTargets(manifest.exports).every(({ target }) => stripDot(target) !== 'package.json')) {
    out.push('exports: no "./package.json" export')
  }
  for (const field of ['main', 'types', 'typings'] as const) {
    const v = manifest[field]
    if (v !== undefined && !has(v)) out.push(`${field}: ${v} is not in the tarball`)
  }
  const bins = typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : manifest.bin ?? {}
  for (const [name, target] of Object.entries(bins)) {
    if (!has(target)) out.push(`bin["${name}"]: ${target} is not in the tarball`)
    else if (!(files.get(stripDot(target)) ?? '').startsWith('#!')) out.push(`bin["${name}"]: ${target} has no #! line`)
  }
  for (const [name, script] of Object.entries(manifest.scripts ?? {})) {
    if (REPOSITORY_SCRIPTS.has(name)) continue
    for (const m of script.matchAll(/(?:^|[\s=])((?:\.{1,2}\/)?[\w@.-]+(?:\/[\w@.-]+)*\.(?:[cm]?js|[cm]?ts|json))(?=$|[\s;&|])/g)) {
      const path = m[1] ?? ''
      if (path.startsWith('../') || !has(path)) out.push(`scripts.${name}: ${path} is not in the tarball`)
    }
    if (/\btsc\b/.test(script)) out.push(`scripts.${name}: runs tsc, which a user of the package does not have`)
  }

  const declared = new Set([
    manifest.name,
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {})
  ])
  for (const [path, text] of files) {
    if (path.endsWith('.map')) {
      let map: { sources?: string[], sourcesContent?: Array<string | null>, sourceRoot?: string }
      try { map = JSON.parse(text) } catch { out.push(`${path}: not JSON`); continue }
      ;(map.sources ?? []).forEach((source, i) => {
        const inline = typeof map.sourcesContent?.[i] === 'string'
        const target = resolveIn(path, posix.join(map.sourceRoot ?? '', source))
        if (!inline && !files.has(target)) out.push(`${path}: source ${source} is neither shipped nor inlined`)
      })
      continue
    }
    if (!/\.(?:[cm]?js|d\.[cm]?ts)$/.test(path)) continue
    for (const m of text.matchAll(/^\/\/# sourceMappingURL=(\S+)\s*$/gm)) {
      const url = m[1] ?? ''
      if (!url.startsWith('data:') && !files.has(resolveIn(path, url))) out.push(`${path}: source map ${url} is not in the tarball`)
    }
    for (const spec of specifiers(text)) {
      if (spec.startsWith('.')) {
        const target = resolveIn(path, spec)
        const dts = path.endsWith('.d.ts') ? [target.replace(/\.js$/, '.d.ts'), `${target}.d.ts`, `${target}/index.d.ts`] : []
        if (!files.has(target) && !dts.some((t) => files.has(t))) out.push(`${path}: imports ${spec}, which is not in the tarball`)
      } else if (!spec.startsWith('node:') && !BUILTINS.has(spec) && !BUILTINS.has(packageOf(spec))) {
        const pkg = packageOf(spec)
        const typesOnly = path.endsWith('.d.ts') && (declared.has(pkg.replace(/^@types\//, '')) || pkg === '@types/node')
        if (!declared.has(pkg) && !typesOnly) out.push(`${path}: imports ${spec}, but ${pkg} is not a dependency`)
      }
    }
  }
  return out
}
