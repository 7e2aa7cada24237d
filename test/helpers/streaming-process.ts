// A child process run in the background whose stderr the test watches for what it prints for a
// person (a sign-in address, a device code) before it finishes. Every wait has a deadline and
// the child is killed if it outlives `timeoutMs`.
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from './server-process.js';

export interface StreamingProcess {
  child: ChildProcess;
  /** Resolves with the first match of `re` on stderr so far or to come; rejects after 30 s or when the child exits first. */
  stderrMatch(re: RegExp): Promise<RegExpExecArray>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

export function startStreaming(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 90_000): StreamingProcess {
  const child = spawn(file, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => {
    stderr += d;
    wake();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    wake();
    resolve({ code, stdout, stderr });
  }));
  const stderrMatch = (re: RegExp) => new Promise<RegExpExecArray>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`no ${re} on stderr within 30 s: ${stderr}`)), 30_000);
    const check = () => {
      const m = re.exec(stderr);
      if (m) {
        clearTimeout(deadline);
        resolve(m);
      } else if (child.exitCode !== null || child.signalCode !== null) {
        clearTimeout(deadline);
        reject(new Error(`${file} exited (${child.exitCode ?? child.signalCode}) before printing ${re}: ${stderr}`));
      } else waiters.push(check);
    };
    check();
  });
  return { child, stderrMatch, done };
}
