// The README's example, runnable from a clone: `npm start` (after `npm install`), or `PORT=8080 npm start`.
const { createServer } = require('../');

const server = createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('Hello, world!\n');
});

server.listen(Number(process.env.PORT) || 3000, () => {
  console.log(`nova-http listening on http://localhost:${server.address().port}/`);
});
