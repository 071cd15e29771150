// Runs every package's benchmarks: each built `dist/**/*.bench.js` under packages/* and apps/*,
// one process at a time (their figures are not disturbed by each other), each printing JSON lines.
// The bench files are not published, so the packages carry no `bench` script of their own.
//
// Run: npx -y pnpm@12 bench [package ...]   e.g. `npx -y pnpm@12 bench mesh state`
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const only = process.argv.slice(2)

function benchFiles (dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.bench.js'))
    .map((d) => join(d.parentPath, d.name))
    .sort()
}

let failed = 0
for (const group of ['packages', 'apps']) {
  const groupDir = join(root, group)
  if (!existsSync(groupDir)) continue
  for (const name of readdirSync(groupDir).sort()) {
    if (only.length > 0 && !only.includes(name)) continue
    for (const file of benchFiles(join(groupDir, name, 'dist'))) {
      console.error(`# ${relative(root, file)}`)
      const run = spawnSync(process.execPath, [file], { stdio: 'inherit', cwd: join(groupDir, name) })
      if (run.status !== 0) failed++
    }
  }
}
process.exitCode = failed === 0 ? 0 : 1
