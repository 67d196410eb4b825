import { Agent, request } from 'undici';
import { seededRandom } from './key-chooser.js';
import type { Operation, Recorder } from './load-generator.js';

/**
 * The expected state of every key, kept by the clients that own it: client c of n owns keys i with
 * i % n == c, so each key's operations are sequential and its last acknowledged value is known exactly. A
 * write whose answer never came may or may not have happened: its key then accepts either value.
 */
export class Model {
  readonly values = new Map<number, string | null>();
  readonly uncertain = new Map<number, (string | null)[]>();
  readonly failures: string[] = [];
  requests = 0;

  accepts(key: number, body: { readonly status: number; readonly text: string }): boolean {
    const options = this.uncertain.get(key) ?? [this.values.get(key) ?? null];
    return options.some((value) =>
      value === null
        ? body.status === 404 && body.text === '{"error":"Key not found"}'
        : body.status === 200 && body.text === JSON.stringify({ value }),
    );
  }

  /** Why an answer is wrong: a value that vanished (lost), came back after a delete, or is not the last one. */
  problem(key: number, body: { readonly status: number; readonly text: string }): string {
    const expected = this.uncertain.get(key) ?? [this.values.get(key) ?? null];
    const kind = expected.every((value) => value === null)
      ? 'resurrected'
      : body.status === 404
        ? 'lost'
        : 'wrong';
    return `${kind}: key${key} answered ${body.status} ${body.text}, expected ${expected.map((value) => (value === null ? '(deleted)' : JSON.stringify(value))).join(' or ')}`;
  }
}

export interface Answer {
  readonly status: number;
  readonly text: string;
}

async function send(agent: Agent, url: string, method: 'GET' | 'PUT' | 'DELETE'): Promise<Answer> {
  const answer = await request(url, { method, dispatcher: agent });
  return { status: answer.statusCode, text: await answer.body.text() };
}

/** Runs `work` for each index in [0, count) on `connections` workers at once. */
async function eachIndex(
  count: number,
  connections: number,
  work: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

/** Writes key0 ... key<keys-1> with the value `initial-<i>` and records them in the model. */
export async function preload(base: string, model: Model, keys: number, connections = 64): Promise<void> {
  const agent = new Agent({ connections });
  try {
    await eachIndex(keys, connections, async (key) => {
      const answer = await send(agent, `${base}/put?key=key${key}&value=initial-${key}`, 'PUT');
      if (answer.status !== 200) throw new Error(`preloading key${key}: ${answer.status} ${answer.text}`);
      model.values.set(key, `initial-${key}`);
    });
  } finally {
    await agent.close();
  }
}

/**
 * Runs `clients` clients, each on its own keys, until `stop` aborts: 90% GET, `deleteShare` DELETE, the rest
 * PUT, every answer checked against the model (unexpected ones go to model.failures) and, given a recorder,
 * timed there.
 */
export function runClients(
  base: string,
  model: Model,
  keys: number,
  clients: number,
  stop: AbortSignal,
  deleteShare = 0.02,
  recorder?: Recorder,
  seed = 1,
): Promise<void> {
  const agent = new Agent({ connections: clients });
  const client = async (index: number) => {
    const random = seededRandom(seed * 7919 + index);
    const owned = Math.floor(keys / clients);
    for (let sequence = 0; !stop.aborted; sequence++) {
      const key = index + clients * Math.floor(random() * owned);
      const draw = random();
      const operation: Operation = draw < 0.9 - deleteShare ? 'get' : draw < 0.9 ? 'del' : 'put';
      const begin = performance.now();
      model.requests++;
      try {
        let answer: Answer;
        let ok: boolean;
        if (operation === 'get') {
          answer = await send(agent, `${base}/get?key=key${key}`, 'GET');
          ok = model.accepts(key, answer);
          if (!ok) model.failures.push(`GET ${model.problem(key, answer)}`);
        } else if (operation === 'del') {
          const before = model.uncertain.get(key) ?? [model.values.get(key) ?? null];
          model.uncertain.set(key, [...before, null]);
          answer = await send(agent, `${base}/del?key=key${key}`, 'DELETE');
          model.uncertain.delete(key);
          const wasLive = before.length === 1 && before[0] !== null;
          const expected = wasLive ? '{"message":"Key deleted successfully"}' : '{"error":"Key not found"}';
          ok = before.length > 1 || answer.text === expected;
          if (!ok) model.failures.push(`DEL key${key}: ${answer.status} ${answer.text}`);
          model.values.set(key, null);
        } else {
          const value = `c${index}-${sequence}`;
          model.uncertain.set(key, [...(model.uncertain.get(key) ?? [model.values.get(key) ?? null]), value]);
          answer = await send(agent, `${base}/put?key=key${key}&value=${value}`, 'PUT');
          ok = answer.status === 200;
          if (!ok) model.failures.push(`PUT key${key}: ${answer.status} ${answer.text}`);
          else {
            model.uncertain.delete(key);
            model.values.set(key, value);
          }
        }
        recorder?.record(operation, `key${key}`, begin, answer.status, ok);
      } catch (error) {
        model.failures.push(`key${key}: ${(error as Error).message}`);
        recorder?.record(
          operation,
          `key${key}`,
          begin,
          0,
          false,
          (error as { code?: string }).code ?? 'TRANSPORT',
        );
        if (stop.aborted) return;
      }
    }
  };
  return Promise.all(Array.from({ length: clients }, (_, index) => client(index))).then(() => agent.close());
}

/** Reads every key once; returns a line per key whose answer the model does not accept (lost, wrong, resurrected). */
export async function verifyAll(
  base: string,
  model: Model,
  keys: number,
  connections = 64,
): Promise<string[]> {
  const agent = new Agent({ connections });
  const problems: string[] = [];
  try {
    await eachIndex(keys, connections, async (key) => {
      const answer = await send(agent, `${base}/get?key=key${key}`, 'GET');
      if (!model.accepts(key, answer)) problems.push(model.problem(key, answer));
    });
  } finally {
    await agent.close();
  }
  return problems;
}
