#!/usr/bin/env node
// An EC2 instance metadata service stand-in for boot tests: QEMU's `guestfwd=...-cmd:` runs it once
// per guest connection, with the connection on stdin/stdout. IMDSv2: PUT /latest/api/token, then
// GET /latest/user-data with the token. MKIMAGE_IMDS_MODE: ok (default) | 404 | 500 | hang.
import { appendFileSync, readFileSync } from 'node:fs';

const log = (line) => { if (process.env.MKIMAGE_IMDS_LOG) appendFileSync(process.env.MKIMAGE_IMDS_LOG, line + '\n'); };
log(`connection (mode ${process.env.MKIMAGE_IMDS_MODE ?? 'ok'})`);

const mode = process.env.MKIMAGE_IMDS_MODE ?? 'ok';
const TOKEN = 'mkimage-test-token';
let buf = '';
process.stdin.setEncoding('latin1');
process.stdin.on('data', (chunk) => {
  buf += chunk;
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return;
  process.stdin.pause();
  const [requestLine, ...headers] = buf.slice(0, end).split('\r\n');
  const [method, path] = requestLine.split(' ');
  log(`${method} ${path}`);
  const header = (name) => headers.find((h) => h.toLowerCase().startsWith(name.toLowerCase() + ':'))?.split(':').slice(1).join(':').trim();
  if (mode === 'hang') return; // never answer: the guest must time out and boot on
  const reply = (status, body) => {
    process.stdout.write(`HTTP/1.0 ${status} X\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => process.exit(0));
  };
  if (method === 'PUT' && path === '/latest/api/token' && header('X-aws-ec2-metadata-token-ttl-seconds')) return reply(200, TOKEN);
  if (method === 'GET' && path === '/latest/user-data') {
    if (header('X-aws-ec2-metadata-token') !== TOKEN) return reply(401, '');
    if (mode === '404') return reply(404, '');
    if (mode === '500') return reply(500, 'internal error');
    return reply(200, readFileSync(process.env.MKIMAGE_IMDS_USER_DATA, 'utf8'));
  }
  reply(404, '');
});
