import { describe, expect, it } from 'vitest';
import { readLines } from '../../src/transfer/lines.ts';

async function collect(chunks: (string | Buffer)[]): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of readLines(
    (async function* () {
      yield* chunks;
    })(),
  ))
    lines.push(line);
  return lines;
}

describe('readLines', () => {
  it('splits on LF and CRLF, across chunks, keeping a last line without a newline', async () => {
    expect(await collect(['{"a":1}\r\n{"b"', ':2}\n\n', '{"c":3}'])).toEqual(['{"a":1}', '{"b":2}', '', '{"c":3}']);
  });

  it('decodes a UTF-8 character split between two chunks', async () => {
    const bytes = Buffer.from('{"name":"Zoë"}\n');
    const cut = bytes.indexOf(0xc3) + 1;
    expect(await collect([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(['{"name":"Zoë"}']);
  });
});
