// Where the CLI keeps its login state (profiles, cached tokens): `$KEYHAVEN_CONFIG_DIR`, by
// default ~/.config/keyhaven. It can hold refresh tokens, so the directory is 0700 and every
// file 0600, and files are replaced atomically so a crash never leaves half a token cache.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

type Env = NodeJS.ProcessEnv;

export function configDir(env: Env = process.env): string {
  const configured = env.KEYHAVEN_CONFIG_DIR;
  if (configured) return resolve(configured);
  return join(env.HOME || homedir(), '.config', 'keyhaven');
}

/** Creates the directory (0700) if it is missing and returns its path. */
export async function ensureConfigDir(env: Env = process.env): Promise<string> {
  const dir = configDir(env);
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is filtered by the umask; only a directory we made is ours to tighten.
  if (created !== undefined) await chmod(dir, 0o700);
  return dir;
}

/** The parsed state file `name`, or undefined when there is none. */
export async function readState<T>(name: string, env: Env = process.env): Promise<T | undefined> {
  const file = statePath(name, env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    // Never echo the content: it may be a token.
    throw new Error(`The state file ${file} is not valid JSON; remove it and log in again.`);
  }
}

export async function writeState(name: string, value: unknown, env: Env = process.env): Promise<void> {
  const dir = await ensureConfigDir(env);
  const file = statePath(name, env);
  const tmp = join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  // 'wx' with mode 0600: the secret is never readable by others, not even for a moment.
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function removeState(name: string, env: Env = process.env): Promise<void> {
  await rm(statePath(name, env), { force: true });
}

/** State names are plain file names: a name must never reach outside the directory. */
function statePath(name: string, env: Env): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) {
    throw new Error(`Invalid state name '${name}'.`);
  }
  return join(configDir(env), `${name}.json`);
}
