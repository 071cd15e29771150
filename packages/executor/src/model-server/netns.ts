// Run a command in a network namespace that has only loopback (`unshare -n`, root only), so that
// an agent CLI under test can never reach out. The scripted model server stays in the test's own
// process: it also listens on a Unix socket (a file, so it crosses network namespaces), and a
// small bridge inside the namespace forwards 127.0.0.1:PORT there before the command starts.
import type { CliAgentAdapter } from '../agent.js'

export interface LoopbackBridge {
  /** The port the command inside the namespace connects to on 127.0.0.1. */
  port: number
  /** The Unix socket the scripted model server listens on. */
  socketPath: string
}

export interface WrappedCommand { file: string, args: string[] }

// Started with `node -e`: listen on each port, forward every connection to its socket, then run
// the command with inherited stdio and exit with its status (or its signal, as 128 + n).
const BRIDGE = `
const net = require('node:net'); const { spawn } = require('node:child_process'); const os = require('node:os')
const bridges = JSON.parse(process.env.BZZZ_LOOPBACK_BRIDGES); delete process.env.BZZZ_LOOPBACK_BRIDGES
const [file, ...args] = process.argv.slice(1)
let ready = 0
for (const b of bridges) {
  net.createServer((c) => { const u = net.connect(b.socketPath); c.pipe(u).pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()) })
    .listen(b.port, '127.0.0.1', () => { if (++ready === bridges.length) run() })
}
if (bridges.length === 0) run()
function run () {
  const child = spawn(file, args, { stdio: 'inherit' })
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => child.kill(s))
  child.on('error', (e) => { console.error(String(e)); process.exit(127) })
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] ?? 1)))
}
`

/**
 * The command line that runs `file args` in a fresh loopback-only network namespace, with the
 * bridges up. `node` is the Node.js binary to run the bridge with (default: this process's).
 * The bridges travel in the `BZZZ_LOOPBACK_BRIDGES` environment variable, which the caller must
 * pass: see {@link loopbackEnv}.
 */
export function inLoopbackNamespace (command: WrappedCommand, options: { node?: string } = {}): WrappedCommand {
  const node = options.node ?? process.execPath
  return {
    file: 'unshare',
    args: ['-n', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', node, '-e', BRIDGE, command.file, ...command.args]
  }
}

export function loopbackEnv (bridges: LoopbackBridge[]): Record<string, string> {
  return { BZZZ_LOOPBACK_BRIDGES: JSON.stringify(bridges) }
}

/** Whether this process may create network namespaces (root). */
export function canUseNetworkNamespaces (): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0
}

/**
 * The same CLI adapter, its command run in a loopback-only network namespace with the bridges
 * up: what a test hands to the executor so that a real CLI reaches the scripted model server
 * and nothing else.
 */
export function withLoopbackNamespace (adapter: CliAgentAdapter, bridges: LoopbackBridge[], options: { node?: string } = {}): CliAgentAdapter {
  return {
    kind: 'cli',
    name: adapter.name,
    parser: adapter.parser,
    command: (spec) => {
      const command = adapter.command(spec)
      return { ...inLoopbackNamespace(command, options), env: { ...command.env, ...loopbackEnv(bridges) } }
    }
  }
}
