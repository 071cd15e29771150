import { readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

// Tests import workspace packages from their TypeScript sources (the `@bzzz/source`
// export condition), so a change is tested without rebuilding its dependencies.
const conditions = ['@bzzz/source', ...defaultServerConditions]

// One Vitest project per package and app; each runs its tests beside its code.
const projects = ['packages', 'apps'].flatMap((group) =>
  existsSync(group)
    ? readdirSync(group, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(group, d.name, 'package.json')))
      .map((d) => ({
        extends: true as const,
        test: {
          name: d.name,
          root: join(group, d.name),
          include: ['src/**/*.test.ts', 'test/**/*.test.ts']
        }
      }))
    : []
)

// The packages as published: packed, installed with npm into a fresh project, README examples run.
// It runs after every other project (groupOrder 1), so that its CPU-heavy type check does not
// disturb the timing of their network tests on a 2-core machine.
projects.push({
  extends: true as const,
  test: { name: 'packaging', root: 'tests/packaging', include: ['**/*.test.ts'], sequence: { groupOrder: 1 } }
})

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    projects,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // 2-core CI machines: keep parallel workers modest so network tests keep their timing.
    maxWorkers: 2
  }
})
