// Layers the configuration: defaults < YAML file < KEYHAVEN_* environment < --flags
// (DESIGN.md), converts strings by the schema's types, reads `_FILE` variants of secret keys,
// validates the result, and fills in the values derived from others (storage, publicUrl,
// masterKeyFile). Any problem is a StartupError whose one-line message names the option,
// where it came from, and what is wrong — never the value, which may be a secret.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import Value from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { StartupError } from '../errors.js';
import { CONFIG_KEYS, ConfigSchema, SECRET_KEYS, type Config } from './schema.js';

export interface ResolvedConfig extends Config {
  home: string;
  storage: string;
  publicUrl: string;
  masterKeyFile: string;
  backupDir: string;
}

export interface ConfigSources {
  /** Flag values keyed by camelCase config key (as commander gives them), strings. */
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Path of the YAML file (`--config`, or KEYHAVEN_CONFIG). */
  configFile?: string | undefined;
  cwd?: string;
}

export interface LoadedConfig {
  config: ResolvedConfig;
  warnings: string[];
}

/** Environment variables that are not config keys but are still Keyhaven's own. */
const OTHER_KEYHAVEN_VARIABLES = new Set(['KEYHAVEN_CONFIG', 'KEYHAVEN_CONFIG_DIR']);

export const envName = (key: string): string => 'KEYHAVEN_' + key.replace(/([A-Z])/g, '_$1').toUpperCase();
export const flagName = (key: string): string => '--' + key.replace(/([A-Z])/g, '-$1').toLowerCase();

type Layer = { values: Record<string, unknown>; describe: (key: string) => string };

export function loadConfig(sources: ConfigSources): LoadedConfig {
  const env = sources.env ?? {};
  const cwd = sources.cwd ?? process.cwd();
  const warnings: string[] = [];
  const configFile = sources.configFile ?? env.KEYHAVEN_CONFIG;

  const layers: Layer[] = [];
  if (configFile) layers.push(fileLayer(resolve(cwd, configFile)));
  layers.push(envLayer(env, warnings));
  layers.push(flagLayer(sources.flags ?? {}));

  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.values)) {
      merged[key] = value;
      origin[key] = layer.describe(key);
    }
  }

  const withDefaults = Value.Default(ConfigSchema, structuredClone(merged)) as Record<string, unknown>;
  for (const error of Value.Errors(ConfigSchema, withDefaults)) {
    const key = error.instancePath.split('/')[1];
    if (!key) continue; // object-level errors are reported per key below
    const from = origin[key] ?? 'default';
    throw new StartupError('KH_CONFIG_INVALID', `invalid option ${key} (${from}): ${error.message}`);
  }
  const config = withDefaults as Config;
  return { config: derive(config, cwd), warnings };
}

function derive(config: Config, cwd: string): ResolvedConfig {
  const expand = (p: string) => (p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : resolve(cwd, p));
  const home = expand(config.home);
  let storage = config.storage ?? `sqlite:${join(home, 'keyhaven.db')}`;
  if (storage.startsWith('sqlite:')) {
    const path = storage.slice('sqlite:'.length);
    if (path === '') throw new StartupError('KH_CONFIG_INVALID', 'invalid option storage: sqlite: needs a path');
    storage = 'sqlite:' + (path === ':memory:' ? path : isAbsolute(path) ? path : expand(path));
  } else if (!/^postgres(ql)?:\/\//.test(storage)) {
    throw new StartupError('KH_CONFIG_INVALID', 'invalid option storage: must start with sqlite: or postgres://');
  }
  const fileOpt = (p: string | undefined) => (p === undefined ? undefined : expand(p));
  return {
    ...config,
    home,
    storage,
    publicUrl: (config.publicUrl ?? `https://localhost:${config.httpsPort}`).replace(/\/+$/, ''),
    masterKeyFile: expand(config.masterKeyFile ?? join(home, 'master.key')),
    backupDir: expand(config.backupDir ?? join(home, 'backups')),
    tlsCaCertFile: fileOpt(config.tlsCaCertFile),
    tlsCaKeyFile: fileOpt(config.tlsCaKeyFile),
    tlsCertFile: fileOpt(config.tlsCertFile),
    tlsKeyFile: fileOpt(config.tlsKeyFile),
  };
}

function fileLayer(path: string): Layer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new StartupError('KH_CONFIG_FILE_UNREADABLE', `cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new StartupError('KH_CONFIG_FILE_INVALID', `config file ${path} is not valid YAML${line ? ` (line ${line})` : ''}`);
  }
  if (typeof doc !== 'object' || Array.isArray(doc) || doc === null) {
    throw new StartupError('KH_CONFIG_FILE_INVALID', `config file ${path} must hold a mapping of options`);
  }
  const values: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(doc)) {
    const { key, fromFile } = splitFileSuffix(rawKey, (k) => k.endsWith('File') ? k.slice(0, -4) : undefined);
    if (!key) throw new StartupError('KH_CONFIG_UNKNOWN_OPTION', `unknown option ${rawKey} in config file ${path}`);
    if (fromFile) setOnce(values, key, readSecretFile(String(value), `${rawKey} in ${path}`), rawKey);
    else setOnce(values, key, value, rawKey);
  }
  return { values, describe: (key) => `config file ${path}` };
}

function envLayer(env: NodeJS.ProcessEnv, warnings: string[]): Layer {
  const values: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  const byEnvName = new Map(CONFIG_KEYS.map((k) => [envName(k), k]));
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('KEYHAVEN_') || raw === undefined || OTHER_KEYHAVEN_VARIABLES.has(name)) continue;
    const { key, fromFile } = splitFileSuffix(name, (n) => n.endsWith('_FILE') ? n.slice(0, -5) : undefined, byEnvName);
    if (!key) {
      warnings.push(`unknown environment variable ${name} ignored`);
      continue;
    }
    const value = fromFile ? readSecretFile(raw, name) : fromString(key, raw, name);
    setOnce(values, key, value, name);
    names[key] = name;
  }
  return { values, describe: (key) => `environment ${names[key]}` };
}

function flagLayer(flags: Record<string, unknown>): Layer {
  const values: Record<string, unknown> = {};
  for (const [rawKey, raw] of Object.entries(flags)) {
    if (raw === undefined) continue;
    const { key, fromFile } = splitFileSuffix(rawKey, (k) => k.endsWith('File') ? k.slice(0, -4) : undefined);
    if (!key) throw new StartupError('KH_CONFIG_UNKNOWN_OPTION', `unknown option ${flagName(rawKey)}`);
    const value = fromFile ? readSecretFile(String(raw), flagName(rawKey)) : typeof raw === 'string' ? fromString(key, raw, `flag ${flagName(key)}`) : raw;
    setOnce(values, key, value, flagName(rawKey));
  }
  return { values, describe: (key) => `flag ${flagName(key)}` };
}

/**
 * Resolves a name to a config key, or to a secret key's `_FILE` variant. A key whose own name
 * ends in File (masterKeyFile, tlsCaCertFile) is a key in its own right, never a variant.
 */
function splitFileSuffix(
  name: string,
  stripFile: (n: string) => string | undefined,
  lookup: Map<string, string> = new Map(CONFIG_KEYS.map((k) => [k, k])),
): { key?: string; fromFile: boolean } {
  const direct = lookup.get(name);
  if (direct) return { key: direct, fromFile: false };
  const base = stripFile(name);
  const key = base === undefined ? undefined : lookup.get(base);
  if (key && SECRET_KEYS.has(key)) return { key, fromFile: true };
  return { fromFile: false };
}

function setOnce(values: Record<string, unknown>, key: string, value: unknown, name: string): void {
  if (key in values) throw new StartupError('KH_CONFIG_INVALID', `option ${key} is given twice (${name} and its other form)`);
  values[key] = value;
}

function readSecretFile(path: string, name: string): string {
  try {
    // A trailing newline is what `echo secret > file` leaves; it is never part of the secret.
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new StartupError('KH_CONFIG_FILE_UNREADABLE', `cannot read ${name} file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Converts an environment or flag string to the schema type of `key`. */
function fromString(key: string, raw: string, name: string): unknown {
  const schema = (ConfigSchema.properties as Record<string, { type?: string }>)[key];
  switch (schema?.type) {
    case 'integer':
      if (!/^-?\d+$/.test(raw.trim())) throw new StartupError('KH_CONFIG_INVALID', `invalid option ${key} (${name}): must be an integer`);
      return Number(raw.trim());
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(raw.trim())) return true;
      if (/^(false|0|no|off)$/i.test(raw.trim())) return false;
      throw new StartupError('KH_CONFIG_INVALID', `invalid option ${key} (${name}): must be true or false`);
    case 'array':
      return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    default:
      return raw;
  }
}
