// Reads a V8 .cpuprofile (what `node --cpu-prof` writes at exit) and sums its samples into
// self time per category and per function, optionally only inside a time window.
//
// The format (Chrome DevTools protocol, Profiler.Profile): `nodes` is the call tree, each node
// a callFrame {functionName, url, lineNumber} with child ids; `samples[i]` is the node on top
// of the stack at sample i and `timeDeltas[i]` the microseconds since sample i-1; `startTime`
// is V8's monotonic clock in microseconds (CLOCK_MONOTONIC on Linux, the same clock as
// process.hrtime), so another process's hrtime readings can select a window.
//
// The sampler ticks on wall time, so the main thread's time blocked in a system call (an
// fsync inside better-sqlite3's synchronous COMMIT) is charged to the JS stack that made it;
// each delta is charged to the stack seen at the end of it, which for a blocking call is the
// call itself (the signal is delivered when it returns).
//
// Categories: a frame of V8 builtins or generic Node internals (promises, events, buffers,
// streams, node:internal/crypto/hash) says little on its own, so such a frame takes the
// category of its nearest caller that has one: HMAC under src/crypto/generated-credential is
// the client secret check, the same HMAC under src/audit is the audit chain.
import { readFileSync } from 'node:fs';

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export const IDLE = 'idle (event loop waiting for I/O)';
export const GC = 'GC (main-thread part)';
export const PROGRAM = 'native, no JS on stack (TLS records, HTTP parsing, libuv)';
const OTHER = 'other (Node internals, promises, timers)';
export const SQL_TRANSACTION = 'SQLite BEGIN/SAVEPOINT/COMMIT (COMMIT fsyncs on the event loop)';
export const SQL_STATEMENTS = 'SQLite statements (prepare + run: reads, audit inserts)';
/** The categories that are the database and the audit log. */
export const STORAGE_CATEGORIES = [SQL_TRANSACTION, SQL_STATEMENTS, 'kysely (query building, connection mutex)', 'audit log + repos (src/audit, src/storage)'];

/**
 * Where better-sqlite3's synchronous native calls land in a profile: the JS frame that calls
 * them (kysely's SqliteConnection.executeQuery calls prepare, then run or all).
 */
/** Keyhaven's own code under src/ (tsx) or dist/ (the built binary), in one of `dirs` (a regex alternation). */
function own(f: CallFrame, dirs: string): boolean {
  return !f.url.includes('/node_modules/') && new RegExp(`/(src|dist)/(${dirs})[/.]`).test(f.url);
}

function isSqliteCall(f: CallFrame): boolean {
  return f.url.includes('/node_modules/better-sqlite3/') || (f.functionName === 'executeQuery' && f.url.includes('/kysely/dist/esm/dialect/sqlite/sqlite-driver'));
}

/** The first rule that matches a frame names its category; frames that match none inherit their caller's. */
const RULES: { category: string; test: (f: CallFrame) => boolean }[] = [
  { category: IDLE, test: (f) => f.functionName === '(idle)' },
  { category: GC, test: (f) => f.functionName === '(garbage collector)' },
  { category: PROGRAM, test: (f) => f.functionName === '(program)' },
  { category: 'JSON (parse/stringify)', test: (f) => f.url === '' && /^(JSON\.)?(stringify|parse|JSONStringify|JSONParse)$/.test(f.functionName) },
  { category: SQL_STATEMENTS, test: (f) => isSqliteCall(f) },
  { category: 'kysely (query building, connection mutex)', test: (f) => f.url.includes('/node_modules/kysely/') },
  { category: 'audit log + repos (src/audit, src/storage)', test: (f) => own(f, 'storage|audit') },
  { category: 'client secret check (HMAC-SHA-256)', test: (f) => own(f, 'crypto/generated-credential') },
  {
    category: 'RS256: jose + WebCrypto job dispatch (main-thread part)',
    test: (f) => /\/node_modules\/jose\/|^node:internal\/crypto\/(webcrypto|sig|rsa|keys|util)$/.test(f.url) || own(f, 'tokens/(token-issuer|signing-keys)'),
  },
  {
    category: 'logging (pino + redaction)',
    test: (f) => /\/node_modules\/(pino|pino-std-serializers|sonic-boom|fast-redact|thread-stream|quick-format-unescaped|safe-stable-stringify)\//.test(f.url) || own(f, 'log'),
  },
  {
    category: 'Fastify',
    test: (f) =>
      /\/node_modules\/(fastify|@fastify\/[^/]+|find-my-way|avvio|fast-json-stringify|light-my-request|secure-json-parse|fast-querystring|process-warning|abstract-logging|toad-cache|rfdc|fastq|content-type|fast-decode-uri-component|ret|safe-regex2)\//.test(f.url),
  },
  { category: 'TLS (node:tls JS)', test: (f) => /^node:(_tls_\w+|tls|internal\/tls\/\w+)$/.test(f.url) },
  { category: 'HTTP (node:http JS)', test: (f) => /^node:(_http_\w+|http|internal\/http)$/.test(f.url) },
  { category: 'sockets (node:net, stream_base)', test: (f) => /^node:(net|internal\/stream_base_commons|internal\/net)$/.test(f.url) },
  { category: 'Keyhaven OAuth face (src/http)', test: (f) => own(f, 'http') },
  { category: 'Keyhaven directory + token logic (src/directory, src/tokens)', test: (f) => own(f, 'directory|tokens') },
  { category: 'Keyhaven, other (src/)', test: (f) => own(f, '[^/]+') },
  { category: 'tsx loader', test: (f) => f.url.includes('/node_modules/tsx/') },
];

export interface FunctionTime {
  functionName: string;
  location: string;
  category: string;
  us: number;
}

export interface ProfileSummary {
  /** Microseconds covered by the samples counted. */
  totalUs: number;
  samples: number;
  byCategory: Map<string, number>;
  topFunctions: FunctionTime[];
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

function shortUrl(url: string): string {
  if (url === '') return '(V8 builtin/native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const src = url.search(/\/(src|dist|test|bench)\//);
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

/** Self time per category and per function, for samples taken within [fromUs, toUs] (V8 monotonic µs) if given. */
export function summarize(profile: CpuProfile, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const categoryOf = new Map<number, string>();
  const category = (id: number): string => {
    const known = categoryOf.get(id);
    if (known !== undefined) return known;
    const frame = byId.get(id)!.callFrame;
    const rule = RULES.find((r) => r.test(frame));
    const up = parent.get(id);
    let result = rule ? rule.category : up === undefined ? OTHER : category(up);
    if (result === SQL_STATEMENTS && isTransactionControl(id)) result = SQL_TRANSACTION;
    categoryOf.set(id, result);
    return result;
  };
  // A statement that src/storage/storage.ts runs itself as raw SQL is BEGIN, SAVEPOINT,
  // RELEASE, ROLLBACK or COMMIT (Storage.transaction); the repositories build theirs.
  const isTransactionControl = (id: number): boolean => {
    let at = parent.get(id);
    for (let depth = 0; at !== undefined && depth < 16; depth++, at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      if (own(f, '[^/]+')) return false;
      if (f.url.includes('/kysely/') && f.url.endsWith('/raw-builder/raw-builder.js')) {
        const caller = parent.get(at);
        return caller !== undefined && own(byId.get(caller)!.callFrame, 'storage/storage');
      }
    }
    return false;
  };

  const byCategory = new Map<string, number>();
  const byNode = new Map<number, number>();
  let t = profile.startTime;
  let totalUs = 0;
  let counted = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    const id = profile.samples[i]!;
    totalUs += delta;
    counted++;
    byNode.set(id, (byNode.get(id) ?? 0) + delta);
    const c = category(id);
    byCategory.set(c, (byCategory.get(c) ?? 0) + delta);
  }

  // Functions: nodes with the same frame (one function reached through several stacks) add up.
  const byFunction = new Map<string, FunctionTime>();
  for (const [id, us] of byNode) {
    const f = byId.get(id)!.callFrame;
    const location = f.url === '' ? shortUrl('') : `${shortUrl(f.url)}:${f.lineNumber + 1}`;
    const key = `${f.functionName}|${location}|${category(id)}`;
    const entry = byFunction.get(key) ?? { functionName: f.functionName || '(anonymous)', location, category: category(id), us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
  }
  const topFunctions = [...byFunction.values()].sort((a, b) => b.us - a.us);
  return { totalUs, samples: counted, byCategory, topFunctions };
}
