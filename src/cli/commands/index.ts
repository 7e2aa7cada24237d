// Every command group of `keyhaven`. A module exports `register(program, ctx)`, adds its group
// with `program.command(...)`, and in its actions calls `ctx.print(result)` or throws.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import * as account from './account.js';
import * as adApp from './ad-app.js';
import * as adGroup from './ad-group.js';
import * as adRole from './ad-role.js';
import * as adSp from './ad-sp.js';
import * as adUser from './ad-user.js';
import * as admin from './admin.js';
import * as audit from './audit.js';
import * as login from './login.js';
import * as serve from './serve.js';

export interface CommandModule {
  register(program: Command, ctx: CliContext): void;
}

const modules: readonly CommandModule[] = [serve, admin, audit, login, account, adUser, adGroup, adApp, adSp, adRole];

export function registerAll(program: Command, ctx: CliContext): void {
  for (const module of modules) module.register(program, ctx);
}
