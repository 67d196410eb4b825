/**
 * Clients that check every answer against a model of what the cluster must hold: each key belongs to one
 * client, so its operations are sequential and its last acknowledged value is known exactly.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';

/**
 * The expected state of every key, kept by the clients that own it (client c owns keys i with i % clients
 * == c, so each key's operations are sequential and its last acknowledged value is known exactly). A write
 * whose answer never came may or may not have happened: its key then accepts either value.
 */
export class Model {
  readonly values = new Map<number, string | null>();
  readonly uncertain = new Map<number, (string | null)[]>();
  readonly failures: string[] = [];
  requests = 0;

  accepts(key: number, body: { status: number; text: string }): boolean {
    const options = this.uncertain.get(key) ?? [this.values.get(key) ?? null];
    return options.some((value) =>
      value === null
        ? body.status === 404 && body.text === '{"error":"Key not found"}'
        : body.status === 200 && body.text === JSON.stringify({ value }),
    );
  }
}

export async function send(
  agent: Agent,
  url: string,
  method: 'GET' | 'PUT' | 'DELETE',
): Promise<{ status: number; text: string }> {
  const answer = await request(url, { method, dispatcher: agent });
  return { status: answer.statusCode, text: await answer.body.text() };
}

export async function preload(base: string, model: Model, keys: number): Promise<void> {
  const agent = new Agent({ connections: 64 });
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < keys) {
        const key = next++;
        const answer = await send(agent, `${base}/put?key=key${key}&value=initial-${key}`, 'PUT');
        assert.equal(answer.status, 200);
        model.values.set(key, `initial-${key}`);
      }
    }),
  );
  await agent.close();
}

/** Runs `clients` clients until `stop` aborts; every unexpected answer is recorded in model.failures. */
export function runClients(
  base: string,
  model: Model,
  keys: number,
  clients: number,
  stop: AbortSignal,
  deleteShare = 0.02,
): Promise<void> {
  const agent = new Agent({ connections: clients });
  const client = async (index: number) => {
    const owned = Math.floor(keys / clients);
    for (let sequence = 0; !stop.aborted; sequence++) {
      const key = index + clients * Math.floor(Math.random() * owned);
      const draw = Math.random();
      model.requests++;
      try {
        if (draw < 0.9 - deleteShare) {
          const answer = await send(agent, `${base}/get?key=key${key}`, 'GET');
          if (!model.accepts(key, answer))
            model.failures.push(`GET key${key}: ${answer.status} ${answer.text}`);
        } else if (draw < 0.9) {
          const before = model.uncertain.get(key) ?? [model.values.get(key) ?? null];
          model.uncertain.set(key, [...before, null]);
          const answer = await send(agent, `${base}/del?key=key${key}`, 'DELETE');
          model.uncertain.delete(key);
          const wasLive = before.length === 1 && before[0] !== null;
          const expected = wasLive ? '{"message":"Key deleted successfully"}' : '{"error":"Key not found"}';
          if (before.length === 1 && answer.text !== expected)
            model.failures.push(`DEL key${key}: ${answer.status} ${answer.text}`);
          model.values.set(key, null);
        } else {
          const value = `c${index}-${sequence}`;
          model.uncertain.set(key, [...(model.uncertain.get(key) ?? [model.values.get(key) ?? null]), value]);
          const answer = await send(agent, `${base}/put?key=key${key}&value=${value}`, 'PUT');
          if (answer.status !== 200) model.failures.push(`PUT key${key}: ${answer.status} ${answer.text}`);
          else {
            model.uncertain.delete(key);
            model.values.set(key, value);
          }
        }
      } catch (error) {
        model.failures.push(`key${key}: ${(error as Error).message}`);
        if (stop.aborted) return;
      }
    }
  };
  return Promise.all(Array.from({ length: clients }, (_, index) => client(index))).then(() => agent.close());
}

/** Reads every key once and returns the ones whose answer the model does not accept. */
export async function verifyAll(base: string, model: Model, keys: number): Promise<string[]> {
  const agent = new Agent({ connections: 64 });
  const wrong: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < keys) {
        const key = next++;
        const answer = await send(agent, `${base}/get?key=key${key}`, 'GET');
        if (!model.accepts(key, answer))
          wrong.push(`key${key}: ${answer.status} ${answer.text}, expected ${model.values.get(key)}`);
      }
    }),
  );
  await agent.close();
  return wrong;
}
