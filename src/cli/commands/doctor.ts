import { parseArgs } from 'node:util';
import {
  CHECKS,
  type CheckName,
  cleanUp,
  conversationContinuity,
  type DoctorContext,
  statePersistence,
  streamingResponse,
  tokenGeneration,
} from '../../observability/doctor/checks.ts';
import { DoctorHttp } from '../../observability/doctor/http.ts';
import { type CliIo, EXIT, UsageError } from '../io.ts';
import { apiKeyOption, positiveNumber, urlOption } from '../options.ts';

export const doctorHelp = `continuum doctor --url <base> --api-key <key> [--subject <subject>] [--timeout <seconds>] [--json]

Run the post-deploy validations against a live deployment over HTTP, print
each with its timing, and exit 1 if any fails (so a pipeline can roll back):

  token generation         an api_key grant answers a token pair; the access
                           token verifies against /.well-known/jwks.json
  state persistence        three turns are written and read back the same;
                           their hash chain is verified here from genesis
  conversation continuity  a conversation survives a token refresh: the new
                           token reads it, and its working context still
                           holds the fact told before the refresh
  streaming response       an SSE reply (respond: true) runs from its turn
                           event through deltas to done

The checks act as one subject of the tenant whose API key is given, open
three small conversations (closed at the end) and leave their turns and audit
events behind like any client would.

  --url       the deployment's base URL, e.g. https://continuum.example.org
  --api-key   an API key of a tenant kept for these checks (default: the
              CONTINUUM_API_KEY environment variable)
  --subject   the subject the checks act as (default continuum-doctor)
  --timeout   seconds each request may take (default 60)
  --json      print {"url","ok","checks":[{"name","ok","ms","detail"}]}`;

/** One check's result. */
export interface DoctorResult {
  name: CheckName;
  ok: boolean;
  ms: number;
  detail: string;
}

const RUNS: Record<CheckName, (ctx: DoctorContext) => Promise<string>> = {
  'token generation': tokenGeneration,
  'state persistence': statePersistence,
  'conversation continuity': conversationContinuity,
  'streaming response': streamingResponse,
};

/** Run every check against `url`, in order; a failed check never stops the next one. */
export async function runDoctor(options: {
  url: string;
  apiKey: string;
  subject?: string;
  timeoutMs?: number;
}): Promise<DoctorResult[]> {
  const ctx: DoctorContext = {
    http: new DoctorHttp(options.url, options.timeoutMs ?? 60_000),
    apiKey: options.apiKey,
    subject: options.subject ?? 'continuum-doctor',
    opened: [],
  };
  const results: DoctorResult[] = [];
  for (const name of CHECKS) {
    const started = performance.now();
    try {
      const detail = await RUNS[name](ctx);
      results.push({ name, ok: true, ms: Math.round(performance.now() - started), detail });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      results.push({ name, ok: false, ms: Math.round(performance.now() - started), detail });
    }
  }
  await cleanUp(ctx);
  return results;
}

export async function doctor(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      url: { type: 'string' },
      'api-key': { type: 'string' },
      subject: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`doctor takes no arguments; got ${positionals.join(' ')}`);
  // A deployment check names its target: no default URL here, unlike `chat` and `token`.
  if (!values.url) throw new UsageError('--url is required');
  const url = urlOption(values.url);
  const apiKey = apiKeyOption(values['api-key'], io);
  const timeout = positiveNumber('--timeout', values.timeout, 60);

  const results = await runDoctor({
    url,
    apiKey,
    ...(values.subject === undefined ? {} : { subject: values.subject }),
    timeoutMs: timeout * 1000,
  });
  const ok = results.every((r) => r.ok);
  if (values.json) {
    io.out(JSON.stringify({ url: values.url, ok, checks: results }));
  } else {
    io.out(`continuum doctor: ${values.url}`);
    const width = Math.max(...results.map((r) => r.name.length));
    for (const r of results) {
      io.out(
        `  ${(r.ok ? 'ok' : 'FAIL').padEnd(4)}  ${r.name.padEnd(width)}  ${`${r.ms} ms`.padStart(8)}  ${r.detail}`,
      );
    }
    const failed = results.filter((r) => !r.ok).map((r) => r.name);
    io.out(
      failed.length === 0
        ? `all ${results.length} checks passed`
        : `${results.length - failed.length} of ${results.length} checks passed; failed: ${failed.join(', ')}`,
    );
  }
  return ok ? EXIT.ok : EXIT.failure;
}
