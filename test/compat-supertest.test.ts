// supertest, as nearly every Express/Koa app is tested: requests against a nova-http server it starts and closes
// itself, and the test process exits on its own afterwards (no server or connection left running). Every I/O model.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { distPath, ioModels, runChild } from './helpers';

const modules = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'node_modules');

describe.each(ioModels)('supertest %o', (model) => {
  test('an Express app on nova-http: requests pass, the process exits by itself', async () => {
    const code = `
      import { createRequire } from 'node:module';
      const require = createRequire(${JSON.stringify(path.join(modules, 'x.js'))});
      const express = require('express');
      const request = require('supertest');
      const { createServer } = require(${JSON.stringify(distPath)});
      const app = express();
      app.use(express.json());
      app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
      app.post('/echo', (req, res) => res.status(201).json(req.body));
      const server = createServer(${JSON.stringify(model)}, app);
      await request(server).get('/users/7').expect(200, { id: '7' });
      await request(server).post('/echo').send({ a: 1 }).expect(201, { a: 1 });
      await request(server).get('/nowhere').expect(404);
      console.log('done', server.listening);
    `;
    const r = await runChild(code, 15000);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('done false');
    expect([r.code, r.signal]).toEqual([0, null]);
  });
});
