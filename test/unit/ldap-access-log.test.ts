// The LDAP access log's pieces that a black-box run cannot reach cheaply: password assertions
// inside filters of every RFC 4515 form are redacted (presence kept), and the chosen level is
// honoured against the logger's (a `debug` access log under an `info` logger writes nothing).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import filterModule from '@ldapjs/filter';
import { LdapAccessLog, loggableFilter } from '../../src/ldap/server/access-log.js';
import { createLogger } from '../../src/log/logger.js';

test('filters on password attributes are logged without their values', () => {
  const cases: [string, string][] = [
    ['(userPassword=Sekr3t-value)', '(userPassword=[REDACTED])'],
    ['(&(uid=ada)(USERPASSWORD=Sekr3t-value))', '(&(uid=ada)(USERPASSWORD=[REDACTED]))'],
    ['(userPassword;binary=Sekr3t-value)', '(userPassword;binary=[REDACTED])'],
    ['(userPassword=Sek*r3t)', '(userPassword=[REDACTED])'],
    ['(userPassword>=Sekr3t)', '(userPassword>=[REDACTED])'],
    ['(userPassword~=Sekr3t)', '(userPassword~=[REDACTED])'],
    ['(userPassword:caseExactMatch:=Sekr3t)', '(userPassword:caseExactMatch:=[REDACTED])'],
    ['(2.5.4.35=Sekr3t)', '(2.5.4.35=[REDACTED])'],
    ['(unicodePwd=Sekr3t)', '(unicodePwd=[REDACTED])'],
    ['(|(authPassword=a\\29b)(cn=x))', '(|(authPassword=[REDACTED])(cn=x))'],
    ['(userPassword=*)', '(userPassword=*)'],
    ['(cn=userPassword=x)', '(cn=userPassword=x)'],
  ];
  for (const [input, expected] of cases) assert.equal(loggableFilter(input), expected, input);
  // The string form @ldapjs/filter gives a parsed filter (what the face logs) is redacted too.
  const parsed = filterModule.parseString('(&(objectClass=person)(userPassword=Sekr3t\\29x))').toString();
  assert.ok(!loggableFilter(parsed).includes('Sekr3t'), loggableFilter(parsed));
});

test('the access log writes at its level only when the logger admits it; off writes nothing', () => {
  const conn = { id: 7, source: '127.0.0.1', remotePort: 4000, secure: true };
  for (const [loggerLevel, accessLevel, expected] of [['info', 'debug', 0], ['debug', 'debug', 2], ['info', 'info', 2], ['trace', 'off', 0]] as const) {
    const chunks: string[] = [];
    const logger = createLogger({ level: loggerLevel, destination: { write: (s: string) => { chunks.push(s); } } });
    const log = new LdapAccessLog(logger, accessLevel);
    log.connectionOpened(conn);
    log.operation(conn, { messageId: 1, request: { type: 'compare', dn: 'uid=ada', attribute: 'userPassword', value: 'Sekr3t' }, tls: true, startedAt: performance.now() }, 'uid=ada', { resultCode: 6, entries: 0 });
    assert.equal(chunks.length, expected, `${loggerLevel}/${accessLevel}`);
    for (const c of chunks) {
      assert.ok(!c.includes('Sekr3t'));
      assert.equal(JSON.parse(c).face, 'ldap');
    }
  }
});
