import type { ErrorBody } from './wire.js';

const TOKEN_KEY = 'ringkv-admin-token';

export interface Field {
  readonly name: string;
  readonly label: string;
  readonly placeholder?: string;
}

/** An error answer of the distributor, with its code. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(status: number, body: Partial<ErrorBody>) {
    super(body.error ?? `the distributor answered ${status}`);
    this.code = body.code ?? 'unknown';
    this.status = status;
  }
}

function byId<T extends HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

/**
 * Requests to the distributor's admin routes, with the admin token when one is kept (asked for on a 401 and
 * kept in this tab's session storage only); confirmation dialogs; and toasts for what happened.
 */
export class Admin {
  #token = sessionStorage.getItem(TOKEN_KEY) ?? '';

  constructor() {
    byId('token-button').addEventListener('click', () => void this.askToken());
  }

  async request<T>(method: 'GET' | 'POST', path: string, retried = false): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.#token !== '') headers.authorization = `Bearer ${this.#token}`;
    const answer = await fetch(path, { method, headers });
    const text = await answer.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = { error: text };
    }
    if (answer.status === 401 && !retried && (await this.askToken())) return this.request(method, path, true);
    if (!answer.ok) throw new ApiError(answer.status, body as Partial<ErrorBody>);
    return body as T;
  }

  /** Asks for the admin token; resolves whether one was given. */
  askToken(): Promise<boolean> {
    const dialog = byId<HTMLDialogElement>('token-dialog');
    const input = byId<HTMLInputElement>('token-input');
    input.value = this.#token;
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener(
        'close',
        () => {
          if (dialog.returnValue !== 'ok') return resolve(false);
          this.#token = input.value.trim();
          sessionStorage.setItem(TOKEN_KEY, this.#token);
          resolve(this.#token !== '');
        },
        { once: true },
      );
    });
  }

  /** A confirmation dialog, with optional text fields; resolves with their values, or undefined if cancelled. */
  confirm(
    title: string,
    text: string,
    fields: readonly Field[] = [],
  ): Promise<Record<string, string> | undefined> {
    const dialog = byId<HTMLDialogElement>('confirm-dialog');
    byId('confirm-title').textContent = title;
    byId('confirm-text').textContent = text;
    const container = byId('confirm-fields');
    container.replaceChildren();
    const inputs = fields.map((field) => {
      const label = document.createElement('label');
      label.textContent = field.label;
      label.htmlFor = `field-${field.name}`;
      const input = document.createElement('input');
      input.id = `field-${field.name}`;
      input.placeholder = field.placeholder ?? '';
      container.append(label, input);
      return input;
    });
    dialog.returnValue = '';
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener(
        'close',
        () => {
          if (dialog.returnValue !== 'ok') return resolve(undefined);
          resolve(
            Object.fromEntries(fields.map((field, index) => [field.name, inputs[index]!.value.trim()])),
          );
        },
        { once: true },
      );
    });
  }

  toast(message: string, error = false): void {
    const toast = document.createElement('div');
    toast.className = error ? 'toast error' : 'toast';
    toast.setAttribute('role', error ? 'alert' : 'status');
    toast.textContent = message;
    byId('toasts').append(toast);
    setTimeout(() => toast.remove(), error ? 9000 : 5000);
  }
}
