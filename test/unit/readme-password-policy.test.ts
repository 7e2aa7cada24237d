// The README's password-policy section says what the policy does (issue 8): its numbers are
// the policy's own, and every password it gives as an example of a rule is refused for that
// rule by the real PasswordPolicy with the shipped common-password list.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_MIN_LENGTH, loadCommonPasswords, MAX_LENGTH, PasswordPolicy } from '../../src/directory/password-policy.js';

const root = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = /^The password policy[\s\S]*?\n\n((?:- [\s\S]*?\n)+)\n/m.exec(readme);

describe('README: the password policy', () => {
  it('is in the README, with the policy’s own limits', () => {
    assert.ok(section, 'a "The password policy" paragraph followed by a list of rules');
    const rules = section[1]!;
    assert.match(rules, new RegExp(`\\bdefault ${DEFAULT_MIN_LENGTH}\\b`));
    assert.match(rules, new RegExp(`at most ${MAX_LENGTH}\\b`));
    assert.match(rules, /data\/common-passwords\.txt/);
    assert.match(rules, /user's name|login name/);
  });

  it('every example password in a rule is refused for that rule', () => {
    const policy = new PasswordPolicy({ commonPasswords: loadCommonPasswords() });
    const expected: [RegExp, string][] = [
      [/most common passwords/, 'KH_PASSWORD_COMMON'],
      [/repetitive or sequential/, 'KH_PASSWORD_PREDICTABLE'],
    ];
    let checked = 0;
    for (const rule of section![1]!.split(/\n(?=- )/)) {
      const code = expected.find(([pattern]) => pattern.test(rule))?.[1];
      if (!code) continue;
      // Examples are the backticked values that are neither files nor quoted characters.
      for (const [, example] of rule.matchAll(/`([^`]{8,})`/g)) {
        if (example!.includes('/')) continue;
        assert.throws(() => policy.check(example!), (err: { code?: string }) => err.code === code, `${example} is refused as ${code}`);
        checked++;
      }
    }
    assert.ok(checked >= 5, `${checked} examples checked`);
    // And what the README itself uses as a password passes.
    policy.check('a long passphrase here', { username: 'ada', email: 'ada@keyhaven.local', displayName: 'Ada Lovelace' });
  });
});
