// OpenLDAP's command-line clients (ldap-utils) for black-box tests: TLS verified against the
// test CA (LDAPTLS_CACERT, LDAPTLS_REQCERT=demand), a deadline on every run, and the exit code
// and output returned rather than thrown.
import { spawn } from 'node:child_process';
import { TEST_CA_CERT } from './server-process.js';

export const ldapToolEnv = { ...process.env, LDAPTLS_CACERT: process.env.LDAPTLS_CACERT ?? TEST_CA_CERT, LDAPTLS_REQCERT: 'demand' };

/** Runs `cmd args` with `input` on stdin; resolves with its exit code and output. */
export function ldapTool(cmd: string, args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: ldapToolEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    // A tool that exits before reading its input (ldapsearch does) closes the pipe: not an error.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(input);
  });
}
