// The --output formats, rendered the way the Azure CLI (knack) renders them, so that scripts and
// habits carry over from az.
import Table from 'cli-table3';
import { stringify as toYaml } from 'yaml';

export const OUTPUT_FORMATS = ['json', 'jsonc', 'table', 'tsv', 'yaml', 'none'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Renders a JSON-compatible value; '' means nothing is written. */
export function formatOutput(value: unknown, format: OutputFormat): string {
  // az prints nothing at all for a command without a result (delete, purge, ...).
  if (value === undefined || value === null) return '';
  switch (format) {
    case 'json':
    case 'jsonc': // jsonc only adds colour in az; plain text keeps pipes and logs clean
      return `${JSON.stringify(value, null, 2)}\n`;
    case 'yaml':
      return toYaml(value);
    case 'table':
      return formatTable(value);
    case 'tsv':
      return formatTsv(value);
    case 'none':
      return '';
  }
}

// --- table -------------------------------------------------------------------------------

/** Keys knack's auto table leaves out: long, and seldom what a person scans a table for. */
const TABLE_SKIP_KEYS = new Set(['id', 'type', 'etag']);

/**
 * knack's `_TableOutput`: one row per item; the columns are each item's scalar, non-null
 * values (nested objects and lists are dropped), named after the key with its first letter
 * capitalised, in first-seen order; rendered as tabulate's "simple" format (a dashed rule under
 * the header, two spaces between columns, everything left-aligned, and every column at least two
 * characters wider than its name).
 */
export function formatTable(value: unknown): string {
  const items = Array.isArray(value) ? value : [value];
  const rows = items.map(tableRow);
  if (rows.length === 0) return '\n';
  const columns: string[] = [];
  for (const row of rows) {
    for (const key of row.keys()) if (!columns.includes(key)) columns.push(key);
  }
  if (columns.length === 0) throw new Error('Unable to extract fields for table.');

  const table = new Table({
    // tabulate's MIN_PADDING: the header cell is two wider than the name (trimmed when last).
    head: columns.map((c) => `${c}  `),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', right: '', 'right-mid': '',
      mid: '-', 'mid-mid': '  ', middle: '  ',
    },
    // compact: the dashed rule only under the header; no colour so output is plain text.
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
  for (const row of rows) table.push(columns.map((c) => row.get(c) ?? ''));
  // cli-table3 pads the last column too; trailing blanks are invisible noise in files and diffs.
  return `${table.toString().split('\n').map((line) => line.trimEnd()).join('\n')}\n`;
}

function tableRow(item: unknown): Map<string, string> {
  const row = new Map<string, string>();
  if (isPlainObject(item)) {
    for (const [key, v] of Object.entries(item)) {
      if (TABLE_SKIP_KEYS.has(key) || v === null || v === undefined || typeof v === 'object') continue;
      row.set(capitalize(key), pyStr(v));
    }
  } else if (Array.isArray(item)) {
    item.forEach((v, i) => row.set(`Column${i + 1}`, v === null ? '' : tableCell(v)));
  } else if (item !== null && item !== undefined) {
    row.set('Result', pyStr(item));
  }
  return row;
}

/** A list item inside a list-of-lists row: knack keeps it, so show it compactly. */
function tableCell(v: unknown): string {
  return typeof v === 'object' ? JSON.stringify(v) : pyStr(v);
}

function capitalize(key: string): string {
  return key.charAt(0).toUpperCase() + key.slice(1);
}

// --- tsv ---------------------------------------------------------------------------------

/**
 * knack's `_TsvOutput`: one line per item (a non-list result is one item), no header; an
 * object's values in key order, a nested list as its length and a nested object as an empty
 * field (so that rows keep the same number of columns), null as `None` and booleans as
 * `True`/`False` (Python's str()), except a bare boolean item, which is `true`/`false`.
 */
export function formatTsv(value: unknown): string {
  const items = Array.isArray(value) ? value : [value];
  return items.map((item) => `${tsvRow(item)}\n`).join('');
}

function tsvRow(item: unknown): string {
  if (isPlainObject(item)) return Object.values(item).map(tsvField).join('\t');
  if (Array.isArray(item)) return item.map(tsvField).join('\t');
  if (typeof item === 'boolean') return String(item);
  return tsvField(item);
}

function tsvField(v: unknown): string {
  if (Array.isArray(v)) return String(v.length);
  if (isPlainObject(v)) return '';
  return pyStr(v);
}

// --- shared ------------------------------------------------------------------------------

/** A scalar as Python's str() shows it, which is what az users see in table and tsv output. */
function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
