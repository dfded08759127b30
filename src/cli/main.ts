import { ConfigError } from '../config/index.ts';
import { audit, auditHelp } from './commands/audit.ts';
import { bench, benchHelp } from './commands/bench.ts';
import { chat, chatHelp } from './commands/chat.ts';
import { doctor, doctorHelp } from './commands/doctor.ts';
import { dynamodb, dynamodbHelp } from './commands/dynamodb.ts';
import { exportCommand, exportHelp } from './commands/export.ts';
import { importCommand, importHelp } from './commands/import.ts';
import { keys, keysHelp } from './commands/keys.ts';
import { loadtest, loadtestHelp } from './commands/loadtest.ts';
import { migrate, migrateHelp } from './commands/migrate.ts';
import { serve, serveHelp } from './commands/serve.ts';
import { tenants, tenantsHelp } from './commands/tenants.ts';
import { token, tokenHelp } from './commands/token.ts';
import { type CliIo, EXIT, processIo, UsageError } from './io.ts';

const COMMANDS: Record<string, { help: string; run: (args: string[], io: CliIo) => Promise<number> }> = {
  serve: { help: serveHelp, run: serve },
  migrate: { help: migrateHelp, run: (_args, io) => migrate(io) },
  tenants: { help: tenantsHelp, run: tenants },
  keys: { help: keysHelp, run: keys },
  token: { help: tokenHelp, run: token },
  chat: { help: chatHelp, run: chat },
  audit: { help: auditHelp, run: audit },
  export: { help: exportHelp, run: exportCommand },
  import: { help: importHelp, run: importCommand },
  dynamodb: { help: dynamodbHelp, run: dynamodb },
  doctor: { help: doctorHelp, run: doctor },
  loadtest: { help: loadtestHelp, run: loadtest },
  bench: { help: benchHelp, run: bench },
};

export const mainHelp = `continuum <command> [options]

Commands:
  serve      start the HTTP server
  migrate    apply schema migrations
  tenants    create tenants and their API keys
  keys       rotate the master key (re-wrap data keys) or the signing key
  token      ask a running server for an access token (API key or refresh token)
  chat       chat with a running server in the terminal, replies streamed
  audit      verify, report on and export the audit trail
  export     write tenants (or all) to an NDJSON file, to move or back them up
  import     read an export file into this store
  dynamodb   create the DynamoDB table (CONTINUUM_STORE=dynamodb)
  doctor     check a live deployment: tokens, persistence, continuity, streaming
  loadtest   run a load scenario against continuum serve processes it starts
  bench      run the benchmark suite (bench/run.ts) and write its results

Run "continuum <command> --help" for a command's options. Settings come from
CONTINUUM_* environment variables (see the README).

Exit codes: 0 ok, 1 failure, 2 usage error, 78 configuration error.`;

/** Parse the command line and run one command; returns the exit code. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainHelp);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`continuum: unknown command ${JSON.stringify(name)}\n\n${mainHelp}`);
    return EXIT.usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(command.help);
    return EXIT.ok;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`continuum ${name}: ${(error as Error).message}\n\n${command.help}`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      io.err(error.message);
      return EXIT.config;
    }
    io.err(`continuum ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.failure;
  }
}
