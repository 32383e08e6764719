import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { postRaw } from '../src/index.js';

let server: ReturnType<typeof createServer>;
let url: string;

beforeAll(async () => {
  // Answers with how the body came: its length and the framing headers.
  server = createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
    });
    req.on('end', () => {
      res.statusCode = req.headers['x-status'] === undefined ? 200 : Number(req.headers['x-status']);
      res.end(
        JSON.stringify({
          bytes: n,
          contentLength: req.headers['content-length'] ?? null,
          transferEncoding: req.headers['transfer-encoding'] ?? null,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('postRaw sends a content-length, or streams chunked; headers pass; a failed request resolves with status 0', async () => {
  const body = Buffer.alloc(3000, 'x');
  const plain = await postRaw(url, body, { headers: { 'x-status': '202' } });
  expect(plain.status).toBe(202);
  expect(JSON.parse(plain.text)).toEqual({ bytes: 3000, contentLength: '3000', transferEncoding: null });
  const chunked = await postRaw(url, body, { chunked: true });
  expect(chunked.status).toBe(200);
  expect(JSON.parse(chunked.text)).toEqual({ bytes: 3000, contentLength: null, transferEncoding: 'chunked' });
  const refused = await postRaw('http://127.0.0.1:1/', body);
  expect(refused).toEqual({ status: 0, text: '', error: 'ECONNREFUSED' });
});
