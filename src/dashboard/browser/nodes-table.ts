import { integer, milliseconds, percent } from './format.js';
import type { MemberView, NodeTraffic } from './wire.js';

export interface NodeActions {
  readonly shutdown: (member: MemberView) => void;
  readonly start: (member: MemberView) => void;
  readonly remove: (member: MemberView) => void;
}

interface Row {
  readonly element: HTMLTableRowElement;
  readonly cells: HTMLTableCellElement[];
  readonly dot: HTMLSpanElement;
  readonly status: HTMLSpanElement;
  readonly buttons: { shutdown: HTMLButtonElement; start: HTMLButtonElement; remove: HTMLButtonElement };
  member: MemberView;
}

function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

/**
 * The nodes table: one row per member, kept by id and updated in place (only the cells whose text changed
 * are touched), so a second's update of a hundred nodes costs little.
 */
export class NodesTable {
  readonly #body: HTMLTableSectionElement;
  readonly #actions: NodeActions;
  readonly #rows = new Map<string, Row>();

  constructor(body: HTMLTableSectionElement, actions: NodeActions) {
    this.#body = body;
    this.#actions = actions;
  }

  #createRow(member: MemberView): Row {
    const element = document.createElement('tr');
    element.dataset.node = member.id;
    const cells = Array.from({ length: 9 }, (_, index) => {
      const cell = element.insertCell();
      if (index >= 3 && index <= 7) cell.className = 'num';
      return cell;
    });
    const dot = document.createElement('span');
    dot.className = 'dot';
    cells[0]!.append(dot, document.createElement('span'));
    const status = document.createElement('span');
    cells[2]!.append(status);
    const button = (label: string, className: string, act: (member: MemberView) => void) => {
      const created = document.createElement('button');
      created.type = 'button';
      created.className = `small ${className}`;
      created.textContent = label;
      created.addEventListener('click', () => act(row.member));
      return created;
    };
    const buttons = {
      shutdown: button('Shut down', '', this.#actions.shutdown),
      start: button('Start', '', this.#actions.start),
      remove: button('Remove', 'danger', this.#actions.remove),
    };
    cells[8]!.className = 'actions';
    cells[8]!.append(buttons.shutdown, buttons.start, buttons.remove);
    const row: Row = { element, cells, dot, status, buttons, member };
    return row;
  }

  update(
    members: readonly MemberView[],
    traffic: Readonly<Record<string, NodeTraffic>>,
    colors: ReadonlyMap<string, string>,
    highlighted: ReadonlySet<string>,
    changeRunning: boolean,
  ): void {
    const seen = new Set<string>();
    members.forEach((member, index) => {
      seen.add(member.id);
      let row = this.#rows.get(member.id);
      if (row === undefined) {
        row = this.#createRow(member);
        this.#rows.set(member.id, row);
      }
      row.member = member;
      if (this.#body.rows[index] !== row.element)
        this.#body.insertBefore(row.element, this.#body.rows[index] ?? null);
      this.#fill(row, member, traffic[member.id], colors, members.length, changeRunning);
      row.element.classList.toggle('highlight', highlighted.has(member.id));
    });
    for (const [id, row] of this.#rows) {
      if (seen.has(id)) continue;
      row.element.remove();
      this.#rows.delete(id);
    }
  }

  #fill(
    row: Row,
    member: MemberView,
    traffic: NodeTraffic | undefined,
    colors: ReadonlyMap<string, string>,
    memberCount: number,
    changeRunning: boolean,
  ): void {
    const { cells } = row;
    row.dot.style.background = colors.get(member.id) ?? '#888';
    setText(cells[0]!.lastElementChild as HTMLElement, member.id);
    setText(cells[1]!, member.url);
    setText(row.status, member.status);
    row.status.className = `status ${member.status}`;
    setText(cells[3]!, integer(member.keys));
    setText(cells[4]!, percent(member.share));
    setText(cells[5]!, integer(traffic?.operations ?? 0));
    setText(cells[6]!, traffic === undefined || traffic.operations === 0 ? '–' : milliseconds(traffic.p99Ms));
    setText(cells[7]!, integer(member.hintsPending));
    const { shutdown, start, remove } = row.buttons;
    shutdown.hidden = member.status === 'down';
    start.hidden = !(member.status === 'down' && member.local);
    shutdown.disabled = start.disabled = changeRunning;
    remove.disabled = changeRunning || memberCount <= 1;
  }
}
