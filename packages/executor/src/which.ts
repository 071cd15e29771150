// Finds a program the way exec would, on a given PATH: an agent CLI that is not installed is
// a capability this peer lacks (a help request), not a failed run.
import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import { delimiter, isAbsolute, join, resolve } from 'node:path'

export async function which (file: string, path: string | undefined, cwd: string): Promise<string | undefined> {
  const executable = async (p: string): Promise<boolean> => await access(p, constants.X_OK).then(() => true, () => false)
  if (file.includes('/')) {
    const full = isAbsolute(file) ? file : resolve(cwd, file)
    return await executable(full) ? full : undefined
  }
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue
    const full = join(dir, file)
    if (await executable(full)) return full
  }
  return undefined
}
