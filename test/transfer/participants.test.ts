import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asConversationId } from '../../src/core/types.ts';
import { exportTenants } from '../../src/transfer/export.ts';
import type { ExportLine } from '../../src/transfer/format.ts';
import { importStream } from '../../src/transfer/import.ts';
import { buildSource, emptyTarget, linesOf, type Source } from './fixtures.ts';

describe('participant records in an export', () => {
  let source: Source;
  let lines: string[];

  beforeAll(async () => {
    source = await buildSource();
    lines = [];
    await exportTenants(source.t.services.store, {
      tenantIds: [source.tenantId],
      write: (line) => void lines.push(line),
    });
  });
  afterAll(async () => source?.t.close());

  it('refuses a participant listed twice, or among the records of another conversation, naming its line', async () => {
    const at = lines.findIndex((line) => line.startsWith('{"type":"participant"'));
    const record = JSON.parse(lines[at]!) as Extract<ExportLine, { type: 'participant' }>;
    const twice = [...lines.slice(0, at + 1), lines[at]!, ...lines.slice(at + 1)];
    const misplaced = lines.with(at, JSON.stringify({ ...record, conversationId: source.conversations[1]!.id }));
    for (const [file, expected] of [
      [twice, new RegExp(`^line ${at + 2}: participant ${record.participant.subject} of \\S+ appears twice`)],
      [misplaced, new RegExp(`^line ${at + 1}: a record of conversation ${source.conversations[1]!.id} among`)],
    ] as const) {
      const target = await emptyTarget(null);
      try {
        await expect(importStream(target.store, linesOf(file))).rejects.toThrow(expected);
      } finally {
        await target.store.close();
        target.remove();
      }
    }
  });

  it('reads a file written before participant records existed (no participant lines, no participants count)', async () => {
    const older = lines
      .filter((line) => !line.startsWith('{"type":"participant"'))
      .map((line) => {
        const record = JSON.parse(line) as ExportLine;
        if (record.type !== 'end') return line;
        const { participants: _dropped, ...counts } = record.counts;
        return JSON.stringify({ ...record, counts });
      });
    expect(older.at(-1)).not.toContain('participants');
    const target = await emptyTarget(null);
    try {
      const result = await importStream(target.store, linesOf(older));
      expect(result.counts).toMatchObject({ conversations: 2, participants: 0 });
      const first = asConversationId(source.conversations[0]!.id);
      expect(await target.store.listParticipants(source.tenantId, first)).toEqual([]);
    } finally {
      await target.store.close();
      target.remove();
    }
  });
});
