/** What ringkv's own HTTP/1.1 clients need from an answer's head (its status line and headers). */
export interface AnswerHead {
  /** The HTTP version of the status line: `1.0` or `1.1`. */
  readonly version: string;
  readonly status: number;
  /** Content-Length: undefined when absent, NaN when it is not a plain decimal number. */
  readonly contentLength: number | undefined;
  /** Transfer-Encoding says chunked. */
  readonly chunked: boolean;
  /** The connection ends after this answer: `connection: close`, or HTTP/1.0 without a Connection header. */
  readonly close: boolean;
  /** Keep-Alive's `timeout=` in seconds, when the server announces one. */
  readonly keepAliveSeconds: number | undefined;
}

/**
 * Parses the text before an answer's blank line; undefined when the status line is not `HTTP/1.x NNN`.
 * Header names are matched without regard to case, values trimmed.
 */
export function parseAnswerHead(head: string): AnswerHead | undefined {
  const statusLine = /^HTTP\/(1\.[01]) (\d{3})(?: |\r|$)/.exec(head);
  if (statusLine === null) return undefined;
  const version = statusLine[1]!;
  let contentLength: number | undefined;
  let chunked = false;
  let connection: string | undefined;
  let keepAliveSeconds: number | undefined;
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') contentLength = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    else if (name === 'transfer-encoding') chunked = value.toLowerCase().includes('chunked');
    else if (name === 'connection') connection = value.toLowerCase();
    else if (name === 'keep-alive') {
      const seconds = /timeout=(\d+)/i.exec(value)?.[1];
      if (seconds !== undefined) keepAliveSeconds = Number(seconds);
    }
  }
  const close = connection === undefined ? version === '1.0' : connection === 'close';
  return { version, status: Number(statusLine[2]), contentLength, chunked, close, keepAliveSeconds };
}
