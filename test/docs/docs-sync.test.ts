import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config/load-config.ts';
import { ERROR_CODES } from '../../src/errors/codes.ts';

/**
 * The docs are part of the contract: these tests fail when README.md,
 * docs/ERRORS.md or docs/SESSIONS.md drift from the code they describe.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

/** The text under the heading `title` (any level), up to the next heading of the same or a higher level. */
function section(markdown: string, title: string): string {
  const lines = markdown.split('\n');
  let inFence = false;
  let level = 0;
  const out: string[] = [];
  for (const line of lines) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const heading = inFence ? null : /^(#{1,6})\s+(.*?)\s*$/.exec(line);
    if (heading) {
      const depth = heading[1]!.length;
      if (level > 0 && depth <= level) break;
      if (level === 0 && heading[2] === title) {
        level = depth;
        continue;
      }
    }
    if (level > 0) out.push(line);
  }
  if (level === 0) throw new Error(`no heading "${title}"`);
  return out.join('\n');
}

/** Rows of the markdown tables in `text` (header and separator rows excluded), as trimmed cells. */
function tableRows(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('|')) continue;
    const cells = trimmed
      .replace(/^\|/, '')
      .replace(/(?<!\\)\|$/, '')
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim());
    // A separator row follows a table's header row: drop the header.
    if (cells.every((cell) => /^:?-{3,}:?$/.test(cell))) rows.pop();
    else rows.push(cells);
  }
  return rows;
}

const unquote = (cell: string): string => cell.replace(/^`(.*)`$/, '$1');

describe('docs/ERRORS.md', () => {
  const rows = tableRows(read('docs/ERRORS.md')).filter((cells) => /^`[a-z_]+`$/.test(cells[0] ?? ''));
  const documented = new Map(rows.map((cells) => [unquote(cells[0]!), cells]));

  it('lists every error code of src/errors/codes.ts with its HTTP status and title', () => {
    const missing: string[] = [];
    for (const [code, { status, title }] of Object.entries(ERROR_CODES)) {
      const cells = documented.get(code);
      if (!cells) {
        missing.push(code);
        continue;
      }
      expect(cells[1], `status of ${code} in docs/ERRORS.md`).toBe(String(status));
      expect(cells[2], `title of ${code} in docs/ERRORS.md`).toBe(title);
      expect(cells[3]?.length ?? 0, `"when it happens" of ${code}`).toBeGreaterThan(10);
      expect(cells[4]?.length ?? 0, `"what the client should do" of ${code}`).toBeGreaterThan(10);
    }
    expect(missing, 'codes missing from docs/ERRORS.md').toEqual([]);
  });

  it('lists no code that the code table does not have, and none twice', () => {
    const codes = rows.map((cells) => unquote(cells[0]!));
    expect(
      codes.filter((code) => !(code in ERROR_CODES)),
      'codes in docs/ERRORS.md but not in codes.ts',
    ).toEqual([]);
    expect(new Set(codes).size, 'duplicate rows in docs/ERRORS.md').toBe(codes.length);
  });
});

describe('README.md settings table', () => {
  const settings = Object.values(SETTINGS);
  const defaultCell = (value: unknown): string => (value === undefined ? 'unset' : `\`${String(value)}\``);
  const expectedTable = [
    '| Setting | Default | Description |',
    '|---|---|---|',
    ...settings.map((s) => `| \`${s.env}\` | ${defaultCell(s.default)} | ${s.description.replaceAll('|', '\\|')} |`),
  ].join('\n');
  const hint = `\nExpected rows like (descriptions may be extended by hand):\n${expectedTable}\n`;

  const rows = tableRows(section(read('README.md'), 'Settings')).filter((cells) => /CONTINUUM_/.test(cells[0] ?? ''));
  const documented = rows.map((cells) => ({ env: unquote(cells[0]!), defaultCell: cells[1] ?? '' }));

  /** `unset`, or the first backticked value of the cell (a cell may add a gloss like "(12 h)"). */
  const parseDefault = (cell: string): string | undefined => {
    if (cell === 'unset') return undefined;
    const match = /^`([^`]*)`/.exec(cell);
    if (!match) throw new Error(`default cell ${JSON.stringify(cell)} is neither "unset" nor starts with a \`value\``);
    return match[1];
  };

  it('lists every CONTINUUM_* setting with its default, in SETTINGS order', () => {
    expect(
      documented.map((row) => row.env),
      `settings in the README's table (order as in SETTINGS)${hint}`,
    ).toEqual(settings.map((s) => s.env));
    for (const setting of settings) {
      const row = documented.find((r) => r.env === setting.env);
      if (!row) continue;
      expect(parseDefault(row.defaultCell), `default of ${setting.env} in README.md${hint}`).toBe(
        setting.default === undefined ? undefined : String(setting.default),
      );
    }
  });

  it('has no CONTINUUM_ name that is not a setting', () => {
    const known = new Set(settings.map((s) => s.env));
    expect(documented.map((row) => row.env).filter((env) => !known.has(env))).toEqual([]);
  });
});

describe('README.md CLI section', () => {
  const cli = section(read('README.md'), 'CLI');

  it('mentions every command of the CLI COMMANDS map', () => {
    const mainTs = read('src/cli/main.ts');
    const block = /const COMMANDS\b[\s\S]*?=\s*\{\n([\s\S]*?)\n\};/.exec(mainTs);
    expect(block, 'the COMMANDS map in src/cli/main.ts').not.toBeNull();
    const commands = [...block![1]!.matchAll(/^\s*['"]?([a-z][\w-]*)['"]?\s*:\s*\{/gm)].map((m) => m[1]!);
    expect(commands.length).toBeGreaterThan(0);
    const missing = commands.filter((name) => !cli.includes(`continuum ${name}`));
    expect(missing, 'commands not mentioned as `continuum <command>` in the README CLI section').toEqual([]);
  });

  it('documents every exit code of src/cli/io.ts', () => {
    const ioTs = read('src/cli/io.ts');
    const block = /export const EXIT\s*=\s*\{([\s\S]*?)\}/.exec(ioTs);
    expect(block, 'the EXIT map in src/cli/io.ts').not.toBeNull();
    const codes = [...block![1]!.matchAll(/:\s*(\d+)/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThan(0);
    const documented = new Set(tableRows(cli).map((cells) => unquote(cells[0] ?? '')));
    expect(
      codes.filter((code) => !documented.has(code)),
      'exit codes missing from the README CLI section',
    ).toEqual([]);
  });
});

describe('docs/SESSIONS.md', () => {
  const timeouts = [
    SETTINGS.accessTokenTtl,
    SETTINGS.refreshTokenTtl,
    SETTINGS.refreshFamilyTtl,
    SETTINGS.sessionIdleTtl,
    SETTINGS.maxSessionsPerTenant,
    SETTINGS.clockToleranceSeconds,
  ];
  const summary = tableRows(section(read('docs/SESSIONS.md'), 'Summary'));

  it('states every session timeout with its setting and current default', () => {
    for (const setting of timeouts) {
      const row = summary.find((cells) => (cells[1] ?? '').includes(`\`${setting.env}\``));
      expect(row, `a row for ${setting.env} in the Summary table of docs/SESSIONS.md`).toBeDefined();
      expect(row![2], `default of ${setting.env} in docs/SESSIONS.md`).toContain(`\`${String(setting.default)}\``);
    }
  });
});
