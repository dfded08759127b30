/**
 * TEST FIXTURE: a loopback fake of AWS KMS speaking the real wire protocol
 * (JSON 1.1: `X-Amz-Target: TrentService.<Op>`, base64 blobs, `__type`
 * errors), so the official SDK client runs unchanged against it. Like KMS it
 * binds each ciphertext to its key and EncryptionContext: a Decrypt under
 * another context fails with InvalidCiphertextException.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { canonicalJson } from '../../src/core/canonical-json.ts';

interface FakeKey {
  id: string;
  arn: string;
  secret: Buffer;
  enabled: boolean;
}

/** One request as the fake saw it. */
export interface FakeKmsCall {
  target: string;
  contentType: string;
  signed: boolean;
  body: Record<string, unknown>;
}

export interface FakeKms {
  endpoint: string;
  region: string;
  calls: FakeKmsCall[];
  /** Makes a key (optionally with `alias/<name>`) and returns its ARN. */
  createKey(alias?: string): string;
  disableKey(arn: string): void;
  close(): Promise<void>;
}

class KmsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const ID_BYTES = 36; // a UUID as ASCII leads every fake ciphertext blob

export async function startFakeKms(region = 'us-east-1', account = '111122223333'): Promise<FakeKms> {
  const keys = new Map<string, FakeKey>();
  const aliases = new Map<string, string>();
  const calls: FakeKmsCall[] = [];

  const resolve = (keyId: unknown): FakeKey => {
    if (typeof keyId !== 'string' || keyId.length === 0) throw new KmsFault('ValidationException', 'KeyId is required');
    let id = keyId;
    const aliasArn = keyId.match(/^arn:aws:kms:[^:]+:\d+:(alias\/.+)$/);
    if (aliasArn) id = aliasArn[1]!;
    if (id.startsWith('alias/')) id = aliases.get(id) ?? '';
    const keyArn = id.match(/^arn:aws:kms:[^:]+:\d+:key\/(.+)$/);
    if (keyArn) id = keyArn[1]!;
    const key = keys.get(id);
    if (!key) throw new KmsFault('NotFoundException', `Key '${keyId}' does not exist`);
    return key;
  };

  const aadOf = (context: unknown): Buffer => Buffer.from(canonicalJson(context ?? {}), 'utf8');

  const blob = (value: unknown, name: string): Buffer => {
    if (typeof value !== 'string') throw new KmsFault('ValidationException', `${name} is required`);
    return Buffer.from(value, 'base64');
  };

  const operations: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    Encrypt(body) {
      const key = resolve(body.KeyId);
      if (!key.enabled) throw new KmsFault('DisabledException', `${key.arn} is disabled.`);
      const plaintext = blob(body.Plaintext, 'Plaintext');
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key.secret, iv);
      cipher.setAAD(aadOf(body.EncryptionContext));
      const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const out = Buffer.concat([Buffer.from(key.id, 'ascii'), iv, cipher.getAuthTag(), sealed]);
      return { CiphertextBlob: out.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    },
    Decrypt(body) {
      const data = blob(body.CiphertextBlob, 'CiphertextBlob');
      const key = keys.get(data.subarray(0, ID_BYTES).toString('ascii'));
      if (!key || data.length < ID_BYTES + 28) throw new KmsFault('InvalidCiphertextException', '');
      if (body.KeyId !== undefined && resolve(body.KeyId).id !== key.id) {
        throw new KmsFault('IncorrectKeyException', 'The key ID in the request does not identify the key');
      }
      if (!key.enabled) throw new KmsFault('DisabledException', `${key.arn} is disabled.`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.secret, data.subarray(ID_BYTES, ID_BYTES + 12));
        decipher.setAAD(aadOf(body.EncryptionContext));
        decipher.setAuthTag(data.subarray(ID_BYTES + 12, ID_BYTES + 28));
        const plaintext = Buffer.concat([decipher.update(data.subarray(ID_BYTES + 28)), decipher.final()]);
        return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      } catch {
        throw new KmsFault('InvalidCiphertextException', '');
      }
    },
  };

  const reply = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const contentType = String(req.headers['content-type'] ?? '');
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      return reply(res, 400, { __type: 'SerializationException', message: 'body is not JSON' });
    }
    calls.push({ target, contentType, signed: /^AWS4-HMAC-SHA256 /.test(req.headers.authorization ?? ''), body });
    if (req.method !== 'POST' || contentType !== 'application/x-amz-json-1.1') {
      return reply(res, 400, { __type: 'SerializationException', message: 'expected application/x-amz-json-1.1' });
    }
    const operation = target.startsWith('TrentService.') ? operations[target.slice('TrentService.'.length)] : undefined;
    if (!operation) return reply(res, 400, { __type: 'UnknownOperationException', message: target });
    try {
      reply(res, 200, operation(body));
    } catch (error) {
      if (!(error instanceof KmsFault)) throw error;
      reply(res, error.status, { __type: error.type, message: error.message });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => reply(res, 500, { __type: 'KMSInternalException', message: 'fake failed' }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    calls,
    createKey(alias) {
      const id = randomUUID();
      const arn = `arn:aws:kms:${region}:${account}:key/${id}`;
      keys.set(id, { id, arn, secret: randomBytes(32), enabled: true });
      if (alias) aliases.set(`alias/${alias}`, id);
      return arn;
    },
    disableKey(arn) {
      resolve(arn).enabled = false;
    },
    close: () =>
      new Promise<void>((done, fail) => {
        server.closeAllConnections();
        server.close((error) => (error ? fail(error) : done()));
      }),
  };
}
