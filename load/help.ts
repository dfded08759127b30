/**
 * The usage text of the load harness, on its own so that `continuum --help`
 * and `continuum loadtest --help` show it without loading the harness.
 */
/** Usage of `continuum loadtest` and `npm run loadtest`. */
export const LOADTEST_HELP = `continuum loadtest --scenario <name> [options]
npm run loadtest -- --scenario <name> [options]

Run a load scenario against real "continuum serve" processes on 127.0.0.1
(started and stopped by the harness, on temp data dirs), from this process as
the load generator. Prints progress on stderr and writes a JSON and a markdown
report to load/results/<scenario>.json|.md (<scenario>-quick with --quick).

Scenarios:
  conversations  1,000 concurrent conversations of one tenant replaying clinical
                 dialogues: appends with respond, token refreshes, context reads
  streams        10,000 concurrent SSE followers (GET …/events) on one node
  sockets        10,000 WebSocket sync subscribers across two nodes
                 (PostgreSQL and Redis, private servers started for the run)
  long           conversations spanning simulated days: expired tokens,
                 refreshes, sign-ins and context pruning
  all            each of the above in turn

Options:
  --quick                small counts, a few seconds each (what CI runs)
  --conversations <n>    conversations (conversations, long) or conversations
                         followed (streams, sockets); e.g. 10000
  --clients <n>          SSE followers (streams) or WebSocket subscribers (sockets)
  --think-ms <ms>        conversations: a patient's pause between steps (default 0:
                         every conversation always has a request in flight)
  --out <dir>            where reports go (default load/results)
  --no-progress          no progress lines

Exit code 0 when every target of the scenario was met (or it is not
available on this machine, which the report says), 1 when one was not,
2 on a usage error.`;
