import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

/**
 * Structured logs (pino): JSON lines when stdout is not a terminal, readable colored lines when it is.
 * RINGKV_LOG_LEVEL sets the level (default info).
 */
export function createLogger(name: string): Logger {
  const level = process.env.RINGKV_LOG_LEVEL ?? 'info';
  if (!process.stdout.isTTY) return pino({ name, level });
  return pino(
    { name, level },
    pretty({ colorize: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' }),
  );
}
