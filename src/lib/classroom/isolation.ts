/**
 * Keeping the student's kernel away from the grader, from outside the kernel (what Node's permission
 * model inside it cannot give): another user, its own session and process group, no network, a death
 * signal tied to the grader, limits enforced by the grader.
 *
 * - As root (CI, grading servers): `unshare -n` (a new, empty network namespace: not even loopback is
 *   up) then `setpriv` to an unprivileged uid/gid (nobody, 65534) with no supplementary groups and
 *   SIGKILL as parent-death signal. A process of another user cannot signal the grader's processes.
 * - Not root, where the kernel allows unprivileged user namespaces: `unshare -U -r -n -p -f` (a user,
 *   network and PID namespace: the grader's processes have no PID the kernel can name, and there is no
 *   network), with the death signal set by `setpriv` on `unshare` and passed on by `--kill-child`.
 * - Otherwise the kernel runs as the grader's user with network: the grader says so at start-up and in
 *   every report (`isolation.warning`).
 *
 * Whatever the plan, the kernel leads its own process group (`detached`), and time and memory are
 * watched by the grader (execute.ts), which kills the whole group.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

export interface IsolationPlan {
  kind: 'root' | 'user-namespace' | 'none';
  /** The command and arguments put before `node ...` for a kernel running as `uid` (root plan). */
  prefix: (uid?: number) => string[];
  /** A fresh uid for one kernel (root plan): kernels of different submissions cannot signal each other. */
  newUid?: () => number;
  /** What a teacher should know, when the kernel is not fully isolated. */
  warning?: string;
  /** In one line, for reports. */
  summary: string;
}

/**
 * Kernels run as uids drawn at random from a range no account uses (setpriv needs no passwd entry), one
 * per kernel: as nobody they would share a uid, and a submission could kill(-1) the others' kernels.
 */
export const KERNEL_UID_BASE = 1_900_000_000;
const KERNEL_UID_SPAN = 100_000_000;

function rootPrefix(uid: number): string[] {
  return ['unshare', '-n', '--', 'setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--pdeathsig', 'KILL', '--'];
}

function works(cmd: string, args: string[]): boolean {
  try {
    const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 5000 });
    return r.status === 0;
  } catch {
    return false;
  }
}

let cached: IsolationPlan | null = null;

/** The best isolation this machine allows (probed once per process; LSO_GRADER_ISOLATION=none forces none). */
export function isolationPlan(): IsolationPlan {
  if (cached) return cached;
  cached = probeIsolation();
  return cached;
}

/** Probes what this machine allows (runs `unshare ... true` once); `forced` "none" skips isolation. */
export function probeIsolation(forced = process.env.LSO_GRADER_ISOLATION): IsolationPlan {
  const linux = process.platform === 'linux';
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (forced !== 'none' && linux && root) {
    const probeCmd = rootPrefix(KERNEL_UID_BASE);
    if (works(probeCmd[0], [...probeCmd.slice(1), 'true'])) {
      return {
        kind: 'root',
        prefix: (uid) => rootPrefix(uid ?? KERNEL_UID_BASE),
        newUid: () => KERNEL_UID_BASE + Math.floor(Math.random() * KERNEL_UID_SPAN),
        summary: 'each submission runs as its own unprivileged uid, in its own process group, without network',
      };
    }
  }
  if (forced !== 'none' && linux && !root) {
    const prefix = ['setpriv', '--pdeathsig', 'KILL', '--', 'unshare', '-U', '-r', '-n', '-p', '-f', '--kill-child', '--'];
    if (works(prefix[0], [...prefix.slice(1), 'true'])) {
      return { kind: 'user-namespace', prefix: () => prefix, summary: 'submissions run in their own user, PID and network namespaces and process group' };
    }
  }
  const why = forced === 'none' ? 'LSO_GRADER_ISOLATION=none' : !linux ? `${process.platform} is not Linux` : root ? 'unshare or setpriv (util-linux) failed' : 'the grader is not root and unprivileged user namespaces are not available';
  return {
    kind: 'none',
    prefix: () => [],
    warning: `submissions run as the grader's own user with network access (${why}): a submission could signal or stop the grader and reach the network; time and memory limits still apply`,
    summary: `not isolated from the grader's user and network (${why})`,
  };
}

/** Gives the kernel's writable folder to its user `uid` (root plan), and lets it traverse the sandbox. */
export function prepareWorkspace(uid: number | undefined, sandboxDir: string, writable: string): void {
  if (uid === undefined) return;
  fs.chmodSync(sandboxDir, 0o755);
  fs.chmodSync(writable, 0o700);
  fs.chownSync(writable, uid, uid);
}

/** The pids of a process group (Linux /proc), or null without /proc. */
export function groupPids(pgid: number): number[] | null {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return null;
  }
  const pids: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so parse after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) pids.push(Number(name));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

/** Resident memory in MB of the given processes (those that still exist). */
export function residentMb(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += (Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096) / (1024 * 1024);
    } catch {
      // gone
    }
  }
  return total;
}
