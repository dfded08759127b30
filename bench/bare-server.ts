/**
 * The yardstick for append throughput: a bare Fastify hello route, no
 * plugins, no logging. Usage: node --import tsx bench/bare-server.ts <port>
 */
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? '0');
if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new TypeError('usage: bare-server.ts <port>');

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
const address = await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`bare fastify listening on ${address}\n`);

const stop = () => {
  void app.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
