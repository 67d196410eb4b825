/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, notFound: 1, usage: 2, serverError: 3 } as const;

/** The exit code for an error the server (or the client) reported with an HTTP status. */
export function exitCodeOf(status: number): number {
  if (status === 404) return EXIT.notFound;
  if (status >= 400 && status < 500 && status !== 409) return EXIT.usage;
  return EXIT.serverError;
}
