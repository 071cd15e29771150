import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ENV_SETTINGS } from './config.js'
import { APP_DIR } from './test-daemons.js'

describe('bzzz.service', () => {
  it('restarts on failure, is hardened, writes only the data directory and takes the token by LoadCredential', async () => {
    const unit = await readFile(join(APP_DIR, 'bzzz.service'), 'utf8')
    const set = (key: string): string[] => unit.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1))
    expect(set('Restart')).toEqual(['on-failure'])
    expect(set('NoNewPrivileges')).toEqual(['yes'])
    expect(set('ProtectSystem')).toEqual(['strict'])
    expect(set('ReadWritePaths')).toEqual(['/var/lib/bzzz'])
    expect(set('LoadCredential')[0]).toMatch(/^github-token:/)
    expect(set('ExecStart')[0]).toContain('bzzz start')
    // The drain ends within 30 s; systemd waits a little longer before killing.
    expect(Number(set('TimeoutStopSec')[0])).toBeGreaterThan(30)
    // Every BZZZ_* variable the unit sets is a setting.
    for (const env of set('Environment')) {
      const name = env.split('=')[0]!
      if (name !== 'BZZZ_DATA_DIR') expect(ENV_SETTINGS.has(name)).toBe(true)
    }
  })
})
