// `keyhaven run [--identity [CLIENT_ID]] [--secret ENV=VAULT/NAME …] -- COMMAND ARGS…`
// (issue 13 item 6): reads each secret from the Key Vault data plane — with the CLI login's
// token, or with `--identity` a token from the metadata agent — starts COMMAND with them in its
// environment, forwards stdin and SIGINT/SIGTERM, and pipes its stdout and stderr through the
// masker, so no value (in any encoding the masker knows) reaches the output. The exit code and
// the terminating signal are the child's, not the CLI's. Each read is audited by the vault; the
// CLI prints nothing of the values. Not done: a pseudo-terminal for the child (its stdout is a
// pipe even when ours is a TTY), the job endpoint, workspaces.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.js';
import { ApiClient } from '../http-client.js';
import { httpsRequest, DEFAULT_TIMEOUT_MS } from '../https-request.js';
import { requireProfile } from '../login-state.js';
import { createMaskingStream, planMasks } from '../run/secret-masker.js';
import { readSecretValue, secretPath } from './keyvault.js';
import { errorFromResponse } from '../api-errors.js';

interface SecretRef { env: string; vault: string; name: string }

function parseSecret(value: string, previous: SecretRef[] = []): SecretRef[] {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=([A-Za-z0-9-]{3,24})\/([A-Za-z0-9-]{1,127})$/.exec(value);
  if (!m) throw new InvalidArgumentError(`'${value}' is not ENV=VAULT/NAME`);
  return [...previous, { env: m[1]!, vault: m[2]!, name: m[3]! }];
}

const VAULT_AUDIENCE = 'https://vault.azure.net';

/** A Key Vault token from the metadata agent (IMDS shape), for the machine's or a user-assigned identity. */
async function agentToken(env: NodeJS.ProcessEnv, clientId: string | undefined): Promise<string> {
  const base = (env['AZURE_POD_IDENTITY_AUTHORITY_HOST'] || 'http://127.0.0.1:50342').replace(/\/+$/, '');
  const url = new URL(`${base}/metadata/identity/oauth2/token`);
  url.searchParams.set('api-version', '2018-02-01');
  url.searchParams.set('resource', VAULT_AUDIENCE);
  if (clientId !== undefined) url.searchParams.set('client_id', clientId);
  let res: Response;
  try {
    res = await fetch(url, { headers: { Metadata: 'true' }, signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS) });
  } catch {
    throw new Error(`the metadata agent at ${base} did not answer`);
  }
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; error_description?: string };
  if (!res.ok || typeof body.access_token !== 'string') throw new Error(`the metadata agent refused a token: ${body.error_description ?? `HTTP ${res.status}`}`);
  return body.access_token;
}

async function readWithIdentity(ctx: CliContext, refs: SecretRef[], clientId: string | undefined): Promise<string[]> {
  const profile = await requireProfile(ctx);
  const token = await agentToken(ctx.env, clientId);
  const values: string[] = [];
  for (const r of refs) {
    const url = `${profile.server}${secretPath(r.vault, r.name)}`;
    const res = await httpsRequest({ method: 'GET', url, headers: { authorization: `Bearer ${token}` }, timeoutMs: DEFAULT_TIMEOUT_MS, caFile: profile.caFile });
    if (res.status !== 200) throw errorFromResponse(res, new URL(url).origin);
    values.push(String((JSON.parse(res.text) as { value?: unknown }).value ?? ''));
  }
  return values;
}

export function register(program: Command, ctx: CliContext): void {
  program.command('run')
    .description("Run a command with vault secrets in its environment, masked as *** in its output; exits with the command's own exit code.")
    .option('--identity [clientId]', "Read the secrets as the machine's managed identity (or the user-assigned one) through the metadata agent.")
    .option('--secret <ENV=VAULT/NAME>', 'Set ENV to the secret NAME of VAULT (repeatable).', parseSecret, [])
    .argument('<command...>', 'The command and its arguments (after --).')
    .action(async (command: string[], opts: { identity?: string | boolean; secret: SecretRef[] }) => {
      const refs = opts.secret;
      const values = opts.identity !== undefined
        ? await readWithIdentity(ctx, refs, typeof opts.identity === 'string' ? opts.identity : undefined)
        : await (async () => {
          const client = await ApiClient.open(ctx);
          const out: string[] = [];
          for (const r of refs) out.push(await readSecretValue(client, r.vault, r.name));
          return out;
        })();
      const named = refs.map((r, i) => ({ name: r.env, value: values[i]! }));
      const { patterns, tooShort } = planMasks(named);
      for (const name of tooShort) ctx.warn(`the value of ${name} is shorter than 4 characters and is not masked in the output`);
      const env = { ...ctx.env };
      for (const n of named) env[n.name] = n.value;
      const child = spawn(command[0]!, command.slice(1), { env, stdio: ['inherit', 'pipe', 'pipe'] });
      const maskedOut = child.stdout.pipe(createMaskingStream(patterns));
      const maskedErr = child.stderr.pipe(createMaskingStream(patterns));
      maskedOut.pipe(process.stdout);
      maskedErr.pipe(process.stderr);
      const drained = Promise.all([maskedOut, maskedErr].map((s) => new Promise((r) => s.on('end', r))));
      const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
      const onInt = forward('SIGINT');
      const onTerm = forward('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
        child.on('error', (err: NodeJS.ErrnoException) => reject(new Error(`cannot start ${command[0]}: ${err.code ?? err.message}`)));
        child.on('close', (c, s) => resolve([c, s]));
      });
      await drained;
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (signal !== null) process.kill(process.pid, signal);
      process.exit(code ?? 1);
    });
}
