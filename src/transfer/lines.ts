import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a byte or text stream into lines (without `\n` or `\r\n`) for
 * `importStream`. Unlike `readline`, nothing is read before the first line is
 * asked for, so no line is lost while the caller is still opening the store,
 * and a read error reaches the caller.
 *
 * @example
 * const result = await importStream(store, readLines(createReadStream('tenants.ndjson')));
 */
export async function* readLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  for await (const chunk of input) {
    const text = partial + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      yield stripCr(text.slice(start, end));
      start = end + 1;
    }
    partial = text.slice(start);
  }
  partial += decoder.end();
  if (partial !== '') yield stripCr(partial);
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
