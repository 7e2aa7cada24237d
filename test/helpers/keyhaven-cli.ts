// The `keyhaven` command from the sources, for tests (bin/keyhaven.js runs the built dist/).
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv);
