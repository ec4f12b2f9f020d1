// Serves msw handlers over loopback HTTP: the same strict emulators the tests run in-process,
// reachable by a real afk process (the demo and the end-to-end tests). It binds 127.0.0.1
// only, on a port the OS picks.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getResponse, type RequestHandler } from 'msw';

export interface Emulator {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Sets the handlers that answer (they usually need `url` to be built). */
  use(handlers: RequestHandler[]): void;
  close(): Promise<void>;
}

export async function startEmulator(): Promise<Emulator> {
  let handlers: RequestHandler[] = [];
  const server = createServer((req, res) => {
    answer(req, res, handlers).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(`emulator error: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    use: (next) => {
      handlers = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, handlers: RequestHandler[]) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, {
    method,
    headers,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body: Buffer.concat(chunks) }),
  });
  const response = await getResponse(handlers, request);
  if (response === undefined) {
    // A route no emulator implements answers like a real server's unknown route.
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: 'Not Found', emulator: `${method} ${req.url ?? ''}` }));
    return;
  }
  // A `network-error` fault answers Response.error(): drop the connection, like a reset.
  if (response.type === 'error') {
    req.socket.destroy();
    return;
  }
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    out[name] = value;
  });
  res.writeHead(response.status, out);
  res.end(Buffer.from(await response.arrayBuffer()));
}
