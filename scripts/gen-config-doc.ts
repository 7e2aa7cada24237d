// Rewrites the configuration reference in README.md from the config schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { replaceReference } from '../src/config/reference.js';

const file = resolve(import.meta.dirname, '..', 'README.md');
writeFileSync(file, replaceReference(readFileSync(file, 'utf8')));
console.log(`updated the configuration reference in ${file}`);
