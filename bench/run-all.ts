// `npm run bench`: every benchmark in turn. Numbers are printed, never asserted: speed goals
// live here, not in timed tests.
const benches = ['./audit-commit.js', './authz-decision.js', './token-issuance.js', './vault-secrets.js', './agent-imds.js'];
for (const bench of benches) {
  console.log(`\n== ${bench.replace('./', '').replace('.js', '')}`);
  await import(bench);
}
