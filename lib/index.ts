// nova-http: a native HTTP/1.1 server for Node.js with the node:http API. Everything public is exported here.
import { STATUS_CODES } from 'node:http';

export { createServer, Server } from './server';
export type { AddressInfo, ClientError, ListenOptions, RequestListener, ServerStats } from './server';
export { IncomingMessage } from './request';
export type { IncomingHttpHeaders } from './request';
export { ServerResponse } from './response';
export type { HeadersArgument, OutgoingHeaders, OutgoingHeaderValue } from './response';
export { NovaSocket } from './socket';
/** The socket of 'upgrade'/'connect': the connection's one NovaSocket (the name of an earlier release). */
export { NovaSocket as UpgradeSocket } from './socket';
export { DEFAULT_IO_MODEL, defaults, HIGH_WATER_MARK } from './options';
export type { Backend, IoModel, ServerOptions } from './options';
export type { CloseReason } from './contract';

/** Reason phrases by status code: node:http's own table. */
export { STATUS_CODES };
