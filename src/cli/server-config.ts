// Commands that run the server or open its store (`serve`, `admin …`, `audit …`) take the
// server's configuration: every schema key as a --kebab-case flag (secret keys also as
// --…-file), plus --config FILE. Flags win over KEYHAVEN_* variables and the file.
import { Option, type Command } from 'commander';
import { flagName, loadConfig, type ResolvedConfig } from '../config/load.js';
import { CONFIG_KEYS, ConfigSchema, SECRET_KEYS } from '../config/schema.js';
import type { CliContext } from './context.js';

/** Adds the flags of `keys` (default: every key) and --config to `cmd`. */
export function addServerConfigOptions(cmd: Command, keys: readonly string[] = CONFIG_KEYS): Command {
  cmd.option('--config <file>', 'YAML configuration file (also KEYHAVEN_CONFIG).');
  for (const key of keys) {
    const schema = (ConfigSchema.properties as Record<string, { description?: string; type?: string }>)[key]!;
    const valueName = schema.type === 'integer' ? '<n>' : schema.type === 'array' ? '<list>' : '<value>';
    cmd.addOption(new Option(`${flagName(key)} ${valueName}`, schema.description ?? ''));
    if (SECRET_KEYS.has(key)) cmd.addOption(new Option(`${flagName(key)}-file <file>`, `Read ${key} from this file.`));
  }
  return cmd;
}

/** Layers the command's flags over the environment and the file; warnings go to stderr. */
export function loadServerConfig(opts: Record<string, unknown>, ctx: CliContext, configKeys: readonly string[] = CONFIG_KEYS): ResolvedConfig {
  const allowed = new Set(configKeys.flatMap((k) => (SECRET_KEYS.has(k) ? [k, `${k}File`] : [k])));
  const flags = Object.fromEntries(Object.entries(opts).filter(([k, v]) => allowed.has(k) && v !== undefined));
  const { config, warnings } = loadConfig({ flags, env: ctx.env, configFile: opts.config as string | undefined });
  for (const w of warnings) ctx.warn(w);
  return config;
}
