#!/usr/bin/env node
// The `keyhaven` command. Runs the compiled CLI from dist/ (built by `npm run build`,
// which `npm start` runs first).
import { main } from '../dist/cli/main.js';

main(process.argv).then((code) => { process.exitCode = code; });
