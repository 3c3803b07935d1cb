'use strict';
// uWebSockets.js (the npm build @trufflesuite/uws-js-unofficial, which loads on Node 20 with glibc 2.36).
// end() adds Content-Length; uWS also adds its own `uWebSockets: 20` header.
const { HOST, PORT, BODY, ready, unavailable } = require('./_common');

let uWS;
try {
  uWS = require('@trufflesuite/uws-js-unofficial');
} catch (e) {
  unavailable(`uWebSockets.js does not load: ${e.message}`);
}
const app = uWS.App().get('/*', (res) => {
  res.writeHeader('Content-Type', 'text/plain').end(BODY);
});
app.listen(HOST, PORT, (token) => {
  if (!token) unavailable(`uWebSockets.js could not listen on ${HOST}:${PORT}`);
  ready(uWS.us_socket_local_port(token));
});
