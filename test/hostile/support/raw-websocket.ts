import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { parseResponse } from './raw-http.ts';
import type { Answer } from './refusal.ts';

/** A frame from the server: text or binary data, or the close it sent (or a close without a frame). */
export type ServerFrame =
  | { kind: 'text'; text: string }
  | { kind: 'binary'; bytes: Buffer }
  | { kind: 'close'; code: number | null; reason: string };

/** Fields of a client frame; anything a conforming client would never send is allowed here. */
export interface RawFrame {
  opcode: number;
  payload: Buffer;
  fin?: boolean;
  /** The three RSV bits as a number 0–7. */
  rsv?: number;
  /** Client frames must be masked; `false` sends one unmasked. */
  mask?: boolean;
  /** Claim this payload length in the header instead of the real one. */
  declaredLength?: number;
}

/**
 * A WebSocket client over a plain TCP socket, to send frames the `ws`
 * client refuses to build (bad opcodes, RSV bits, unmasked, invalid UTF-8,
 * a huge declared length) and read exactly what the server answers.
 */
export class RawWebSocket {
  readonly #socket: Socket;
  #buffer = Buffer.alloc(0);
  readonly #frames: ServerFrame[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;

  private constructor(socket: Socket, rest: Buffer) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#take(chunk));
    socket.on('close', () => {
      this.#ended = true;
      this.#waiter?.();
    });
    socket.on('error', () => undefined);
    if (rest.length > 0) this.#take(rest);
  }

  /** Open `path` with an upgrade request; a refused upgrade comes back as the HTTP answer. */
  static open(port: number, path: string, headers: Record<string, string> = {}): Promise<RawWebSocket | Answer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      let data = Buffer.alloc(0);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer to the upgrade of ${path}`));
      }, 5_000);
      const onData = (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (data.subarray(0, 12).toString('latin1') === 'HTTP/1.1 101') {
          clearTimeout(timer);
          socket.off('data', onData);
          resolve(new RawWebSocket(socket, data.subarray(end + 4)));
          return;
        }
        const answer = parseResponse(data);
        if (answer) {
          clearTimeout(timer);
          socket.destroy();
          resolve(answer);
        }
      };
      socket.on('data', onData);
      socket.on('error', () => undefined);
      const lines = {
        Host: '127.0.0.1',
        Upgrade: 'websocket',
        Connection: 'Upgrade',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Version': '13',
        ...headers,
      };
      const head = Object.entries(lines)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      socket.write(Buffer.from(`GET ${path} HTTP/1.1\r\n${head}\r\n`, 'latin1'));
    });
  }

  send(frame: RawFrame): void {
    const { opcode, payload, fin = true, rsv = 0, mask = true } = frame;
    const length = frame.declaredLength ?? payload.length;
    const head: number[] = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)];
    const maskBit = mask ? 0x80 : 0;
    let extended = Buffer.alloc(0);
    if (length < 126) head.push(maskBit | length);
    else if (length < 65_536) {
      head.push(maskBit | 126);
      extended = Buffer.alloc(2);
      extended.writeUInt16BE(length);
    } else {
      head.push(maskBit | 127);
      extended = Buffer.alloc(8);
      extended.writeBigUInt64BE(BigInt(length));
    }
    const key = mask ? randomBytes(4) : Buffer.alloc(0);
    const body = Buffer.from(payload);
    if (mask) for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ key[i % 4]!;
    this.#socket.write(Buffer.concat([Buffer.from(head), extended, key, body]));
  }

  sendText(text: string): void {
    this.send({ opcode: 1, payload: Buffer.from(text) });
  }

  sendJson(value: unknown): void {
    this.sendText(JSON.stringify(value));
  }

  /** The next frame from the server; a connection that ends without a close frame is `{ kind: 'close', code: null }`. */
  async next(timeoutMs = 5_000): Promise<ServerFrame> {
    const deadline = Date.now() + timeoutMs;
    while (this.#frames.length === 0) {
      if (this.#ended) return { kind: 'close', code: null, reason: '' };
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame from the server within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
    return this.#frames.shift()!;
  }

  /** The next text frame parsed as JSON (skipping nothing: anything else is an error). */
  async nextJson(timeoutMs?: number): Promise<Record<string, unknown> | ServerFrame> {
    const frame = await this.next(timeoutMs);
    return frame.kind === 'text' ? (JSON.parse(frame.text) as Record<string, unknown>) : frame;
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #take(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const frame = this.#parse();
      if (!frame) break;
      this.#frames.push(frame);
    }
    this.#waiter?.();
  }

  #parse(): ServerFrame | null {
    const data = this.#buffer;
    if (data.length < 2) return null;
    const opcode = data[0]! & 0x0f;
    let length = data[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (data.length < 4) return null;
      length = data.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (data.length < 10) return null;
      length = Number(data.readBigUInt64BE(2));
      offset = 10;
    }
    if (data.length < offset + length) return null;
    const payload = data.subarray(offset, offset + length);
    this.#buffer = data.subarray(offset + length);
    if (opcode === 8) {
      return {
        kind: 'close',
        code: payload.length >= 2 ? payload.readUInt16BE(0) : null,
        reason: payload.subarray(2).toString('utf8'),
      };
    }
    if (opcode === 1) return { kind: 'text', text: payload.toString('utf8') };
    if (opcode === 2) return { kind: 'binary', bytes: Buffer.from(payload) };
    return this.#parse();
  }
}
