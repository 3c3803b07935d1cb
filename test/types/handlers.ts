// Type-checked by test/types-check.test.ts under `strict`: nova-http's types extend @types/node's, so code typed for
// node:http and Express apps compile against createServer. Never run.
import * as http from 'node:http';
import express from 'express';
import { createServer, IncomingMessage, Server, ServerResponse } from '../../dist/index.js';

const app = express();
app.use(express.json());
app.get('/users/:id', (req, res) => {
  res.json({ id: req.params.id });
});

// An Express app as the request listener.
const withExpress: Server = createServer(app);
withExpress.listen(0, '127.0.0.1', () => withExpress.close());

// A handler typed with @types/node's classes.
const nodeTyped = (req: http.IncomingMessage, res: http.ServerResponse): void => {
  if (req.headers.authorization?.startsWith('Bearer ')) res.statusCode = 204;
  const agent: string | undefined = req.headers['user-agent'];
  res.setHeader('X-Agent', agent ?? 'none');
  res.end();
};
createServer(nodeTyped);
createServer({ ioModel: 'evented' }, nodeTyped);

// nova-http's own classes are node's.
createServer((req, res) => {
  const r: http.IncomingMessage = req;
  const w: http.ServerResponse = res;
  const sameSocket: boolean = req.socket === res.socket;
  w.writeHead(200, { 'Content-Type': 'text/plain' }).end(`${r.method} ${r.url} ${sameSocket}`);
  // @ts-expect-error statusCode is a number
  res.statusCode = 'ok';
});

function takesNova(req: IncomingMessage, res: ServerResponse): void {
  res.end(req.url);
}
createServer(takesNova);

// A node:http server-shaped helper accepts nova-http's server where it needs listen/close/address.
function addressOf(server: { address(): unknown }): unknown {
  return server.address();
}
addressOf(createServer());

// supertest takes a nova-http server as it takes a node:http one.
import request from 'supertest';
void request(createServer(app)).get('/users/1').expect(200);
