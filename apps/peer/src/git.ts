// A task's working tree: clone this node's fork, start the branch from earlier work when there
// is some, commit as the node, push only while the claim holds (fencing).
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { TaskWork } from './execution.js'

const run = promisify(execFile)

export interface GitIdentity {
  name: string
  email: string
}

export interface Workspace {
  dir: string
  /** Runs git in the workspace with the client's credentials (never in arguments or URLs). */
  git: (...args: string[]) => Promise<string>
  /** Commits everything; false when there was nothing to commit. */
  commitAll: (message: string) => Promise<boolean>
  /** Fences the claim, then pushes the branch to the fork. */
  push: () => Promise<void>
}

/** Clones the fork into `work.workDir` and checks out `work.branch`, from the WIP branch when given. */
export async function openWorkspace (work: TaskWork, identity: GitIdentity): Promise<Workspace> {
  const dir = work.workDir
  const env = { ...process.env, ...work.client.gitEnv(), GIT_TERMINAL_PROMPT: '0' }
  const git = async (...args: string[]): Promise<string> => {
    const { stdout } = await run('git', ['-c', `user.name=${identity.name}`, '-c', `user.email=${identity.email}`, ...args], {
      cwd: dir, env, signal: work.signal, maxBuffer: 16 * 1024 * 1024
    })
    return stdout
  }
  await git('clone', '-q', work.fork.cloneUrl, '.')
  if (work.wip !== undefined) {
    await git('fetch', '-q', work.wip.cloneUrl, `+refs/heads/${work.wip.branch}:refs/remotes/wip/${work.wip.branch}`)
    await git('checkout', '-q', '-B', work.branch, `refs/remotes/wip/${work.wip.branch}`)
    work.progress({ kind: 'git', text: `continuing from ${work.wip.fork}:${work.wip.branch}` })
  } else {
    await git('checkout', '-q', '-B', work.branch)
  }
  return {
    dir,
    git,
    commitAll: async (message) => {
      await git('add', '-A')
      const status = await git('status', '--porcelain')
      if (status.trim() === '') return false
      await git('commit', '-q', '-m', message)
      return true
    },
    push: async () => {
      const pass = await work.claim.fence({ signal: work.signal })
      await run('git', ['push', '-q', '--force', 'origin', `HEAD:refs/heads/${work.branch}`], { cwd: dir, env, signal: AbortSignal.any([pass.signal, work.signal]) })
    }
  }
}
