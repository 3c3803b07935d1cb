'use strict';
// fastify with its defaults (logger off): what a Node user picks for speed with a framework.
const { HOST, PORT, BODY, ready, unavailable } = require('./_common');

let Fastify;
try {
  Fastify = require('fastify');
} catch (e) {
  unavailable(`fastify does not load: ${e.message}`);
}
const app = Fastify({ logger: false });
app.get('/', (req, reply) => {
  reply.type('text/plain').send(BODY);
});
app.listen({ host: HOST, port: PORT }).then(
  () => ready(app.server.address().port),
  (e) => unavailable(`fastify could not listen: ${e.message}`),
);
