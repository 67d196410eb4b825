/**
 * The dashboard's routes on the distributor: the page (`GET /`), its scripts (`/dashboard/*.js`, compiled from
 * src/dashboard/browser), the live event stream (`/events`), the traffic history (`/stats`) and the ring's
 * drawing (`/ring/layout`). The page needs nothing from the network but the distributor.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { RingKvError } from '../errors.js';
import { methodNotAllowed, routeNotFound, sendJson } from '../http/response.js';
import type { HashRing } from '../ring/hash-ring.js';
import { DASHBOARD_PAGE } from './page.js';
import { type RingLayout, ringLayout } from './ring-layout.js';

/** Where `npm run build` puts the browser modules (the same place from src/ under tsx and from dist/). */
const BROWSER_DIRECTORY = fileURLToPath(new URL('../../dist/dashboard/browser/', import.meta.url));

/** The compiled browser modules by file name, read once. Empty when the build has not run. */
function loadScripts(): ReadonlyMap<string, Buffer> {
  const scripts = new Map<string, Buffer>();
  try {
    for (const name of readdirSync(BROWSER_DIRECTORY))
      if (/^[a-z-]+\.js$/.test(name)) scripts.set(name, readFileSync(`${BROWSER_DIRECTORY}${name}`));
  } catch {}
  return scripts;
}

export interface DashboardSource {
  /** The rings routing now (the next one only during a move) and the ring version. */
  rings(): { readonly current: HashRing; readonly next: HashRing | undefined; readonly version: number };
}

export interface DashboardLayout {
  readonly ringVersion: number;
  readonly current: RingLayout;
  readonly next: RingLayout | null;
}

export class DashboardRoutes {
  readonly #source: DashboardSource;
  readonly #scripts = loadScripts();
  #layout: { readonly key: string; readonly layout: DashboardLayout } | undefined;

  constructor(source: DashboardSource) {
    this.#source = source;
  }

  /** Handles the dashboard's own paths; returns false for any other path. */
  handle(pathname: string, request: IncomingMessage, response: ServerResponse): boolean {
    if (pathname !== '/' && pathname !== '/ring/layout' && !pathname.startsWith('/dashboard/')) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD')
      throw methodNotAllowed(request.method, pathname, ['GET', 'HEAD']);
    if (pathname === '/') this.#send(response, 'text/html; charset=utf-8', DASHBOARD_PAGE, request.method);
    else if (pathname === '/ring/layout') sendJson(response, 200, this.layout());
    else this.#script(pathname.slice('/dashboard/'.length), request.method, response);
    return true;
  }

  /** The ring as drawn, computed once per ring version (and once more when a move starts or ends). */
  layout(): DashboardLayout {
    const { current, next, version } = this.#source.rings();
    const key = `${version} ${next === undefined ? '' : next.nodes.map((node) => node.id).join(',')}`;
    if (this.#layout?.key !== key) {
      this.#layout = {
        key,
        layout: {
          ringVersion: version,
          current: ringLayout(current),
          next: next === undefined ? null : ringLayout(next),
        },
      };
    }
    return this.#layout.layout;
  }

  #script(name: string, method: string, response: ServerResponse): void {
    const script = this.#scripts.get(name);
    if (script === undefined) {
      if (this.#scripts.size === 0)
        throw new RingKvError('RINGKV_ERR_INTERNAL', 'the dashboard is not built: run npm run build');
      throw routeNotFound(`/dashboard/${name}`);
    }
    this.#send(response, 'text/javascript; charset=utf-8', script, method);
  }

  #send(response: ServerResponse, type: string, body: string | Buffer, method: string): void {
    response.writeHead(200, {
      'content-type': type,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy':
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
    });
    response.end(method === 'HEAD' ? undefined : body);
  }
}
