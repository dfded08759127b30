import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { TestApp } from '../helpers/test-app.ts';

/** A turn as the API shows it. */
export interface TurnBody {
  number: number;
  role: string;
  content: string;
  createdAt: string;
  hash: string;
}

/** An RFC 9457 problem document of this API. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extra: string]: unknown;
}

/**
 * Assert `res` is an `application/problem+json` error with `status` and
 * `code` and the five RFC 9457 members; returns the body.
 */
export function expectProblem(res: LightMyRequestResponse, status: number, code: string): ProblemBody {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json() as ProblemBody;
  expect(body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String) });
  expect(typeof body.detail).toBe('string');
  expect(body.detail.length).toBeGreaterThan(0);
  return body;
}

/** Create a conversation as `token`'s subject; returns its id. */
export async function createConversation(t: TestApp, token: string, body: Record<string, unknown> = {}) {
  const res = await t.request({ method: 'POST', url: '/v1/conversations', token, body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

export function appendTurn(
  t: TestApp,
  token: string,
  id: string,
  body: Record<string, unknown>,
  headers?: Record<string, string>,
) {
  return t.request({
    method: 'POST',
    url: `/v1/conversations/${id}/turns`,
    token,
    body: { role: 'user', ...body },
    ...(headers === undefined ? {} : { headers }),
  });
}

/** Append `contents` one after another from turn `from`; every append must succeed. */
export async function appendTurns(t: TestApp, token: string, id: string, contents: string[], from = 0) {
  for (const [i, content] of contents.entries()) {
    const res = await appendTurn(t, token, id, { content, expectedTurn: from + i });
    expect(res.statusCode, res.body).toBe(201);
  }
}

/** Every turn of a conversation, read page by page. */
export async function readAllTurns(t: TestApp, token: string, id: string, pageSize = 100): Promise<TurnBody[]> {
  const turns: TurnBody[] = [];
  for (;;) {
    const res = await t.request({
      method: 'GET',
      url: `/v1/conversations/${id}/turns?after=${turns.length}&limit=${pageSize}`,
      token,
    });
    expect(res.statusCode, res.body).toBe(200);
    const items = res.json().items as TurnBody[];
    turns.push(...items);
    if (items.length < pageSize) return turns;
  }
}

export async function refresh(t: TestApp, refreshToken: string) {
  return t.request({
    method: 'POST',
    url: '/v1/auth/token',
    body: { grant_type: 'refresh_token', refresh_token: refreshToken },
  });
}
