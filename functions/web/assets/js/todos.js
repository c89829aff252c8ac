// @ts-check
/**
 * The task list, after the TodoMVC app spec: add, edit by double-click, toggle, delete, mark
 * all, filters (#/, #/active, #/completed), counter, clear completed. Every change goes to the
 * server first and the list is drawn from what the server answered.
 */

import { acceptFileDrops, h, find } from './dom.js';
import { describe, dueBucket } from './dates.js';
import { ApiError, SignedOut } from './api.js';

/**
 * @typedef {import('./tasks.js').Task} Task
 * @typedef {import('./tasks.js').TaskStore} TaskStore
 * @typedef {'all' | 'active' | 'completed'} Filter
 */

/** A fresh Idempotency-Key (crypto.randomUUID needs a secure context; this does not). */
function newKey() {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** @type {Record<string, Filter>} */
const ROUTES = { '#/': 'all', '#/active': 'active', '#/completed': 'completed' };

export class TodoList {
  /**
   * @param {TaskStore} store
   * @param {(error: unknown) => void} report shows a failure to the person
   * @param {(task: Task, files: File[]) => void} attach files dropped on a task's row
   */
  constructor(store, report, attach) {
    this.store = store;
    this.report = report;
    this.attach = attach;
    /** @type {Task[]} */
    this.tasks = [];
    /** @type {Filter} */
    this.filter = 'all';
    /**
     * The title being added and its Idempotency-Key, kept until the server has it: a retry
     * of the same title after a network failure creates it once.
     * @type {{ title: string, key: string } | null}
     */
    this.pending = null;
    this.adding = false;
    /** Counts local changes, so a list fetched meanwhile is not taken as current. */
    this.changes = 0;
    this.root = h(
      'section',
      { class: 'todoapp', 'aria-label': 'Tasks' },
      h(
        'div',
        { class: 'new-todo-row' },
        h('label', { class: 'toggle-all-label' }, h('input', { class: 'toggle-all', type: 'checkbox', 'aria-label': 'Mark all as complete' })),
        h('input', {
          class: 'new-todo',
          placeholder: 'What needs to be done?',
          'aria-label': 'What needs to be done?',
          autocomplete: 'off',
          maxlength: '200',
          disabled: true,
        }),
      ),
      h(
        'div',
        { class: 'refine' },
        h('label', { for: 'due-filter' }, 'Due'),
        h(
            'select',
            { class: 'due-filter', id: 'due-filter' },
            h('option', { value: '' }, 'Any time'),
            h('option', { value: 'overdue' }, 'Overdue'),
            h('option', { value: 'today' }, 'Today'),
            h('option', { value: 'week' }, 'Next 7 days'),
          ),
        h('label', { for: 'tag-filter' }, 'Tag'),
        h('select', { class: 'tag-filter', id: 'tag-filter' }, h('option', { value: '' }, 'All tags')),
      ),
      h('ul', { class: 'todo-list', 'aria-label': 'Todo list' }),
      h(
        'footer',
        { class: 'footer' },
        h('span', { class: 'todo-count', 'data-testid': 'todo-count' }),
        h(
          'ul',
          { class: 'filters', 'aria-label': 'Show' },
          h('li', {}, h('a', { href: '#/' }, 'All')),
          h('li', {}, h('a', { href: '#/active' }, 'Active')),
          h('li', {}, h('a', { href: '#/completed' }, 'Completed')),
        ),
        h('button', { type: 'button', class: 'clear-completed' }, 'Clear completed'),
      ),
    );
    this.newTodo = find(this.root, '.new-todo', HTMLInputElement);
    this.toggleAll = find(this.root, '.toggle-all', HTMLInputElement);
    this.list = find(this.root, '.todo-list', HTMLUListElement);
    this.footer = find(this.root, '.footer', HTMLElement);
    this.count = find(this.root, '.todo-count', HTMLElement);
    this.clearCompleted = find(this.root, '.clear-completed', HTMLButtonElement);
    this.dueFilter = find(this.root, '.due-filter', HTMLSelectElement);
    this.tagFilter = find(this.root, '.tag-filter', HTMLSelectElement);
    this.dueFilter.addEventListener('change', () => this.render());
    this.tagFilter.addEventListener('change', () => this.render());
    this.newTodo.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.isComposing) this.add();
    });
    this.toggleAll.addEventListener('change', () => this.markAll(this.toggleAll.checked));
    this.clearCompleted.addEventListener('click', () => this.removeCompleted());
    this.onHashChange = () => this.route();
    window.addEventListener('hashchange', this.onHashChange);
  }

  /** Loads the tasks and draws them. */
  async start() {
    this.route();
    await this.reload();
    // Usable once the list is there: an add before would be lost in the first load.
    this.newTodo.disabled = false;
    this.newTodo.focus();
    // The time to a usable list, read by the browser tests' figures.
    if (performance.getEntriesByName('todos-ready').length === 0) performance.mark('todos-ready');
  }

  stop() {
    window.removeEventListener('hashchange', this.onHashChange);
  }

  async reload() {
    try {
      this.tasks = await this.fetchAll();
    } catch (error) {
      this.report(error);
    }
    this.render();
  }

  /**
   * Every task, fetched again if a local change landed while the list was on its way.
   * @returns {Promise<Task[]>}
   */
  async fetchAll() {
    for (let attempt = 0; ; attempt += 1) {
      const before = this.changes;
      const tasks = await this.store.all();
      if (before === this.changes || attempt === 2) return tasks;
    }
  }

  route() {
    // Other routes (a task's detail, settings) leave the list as it was.
    const filter = ROUTES[location.hash || '#/'];
    if (!filter) return;
    this.filter = filter;
    this.render();
  }

  async add() {
    const title = this.newTodo.value.trim();
    if (!title || this.adding) return;
    if (this.pending?.title !== title) this.pending = { title, key: newKey() };
    const { key } = this.pending;
    this.adding = true;
    try {
      const task = await this.store.create(title, key);
      this.changes += 1;
      this.pending = null;
      if (!this.tasks.some((each) => each.id === task.id)) this.tasks.push(task);
      if (this.newTodo.value.trim() === title) this.newTodo.value = '';
      this.render();
    } catch (error) {
      // The typed title stays. After a network failure a retry reuses the key (created
      // once either way); a refusal will not change on retry, so the next try is new.
      if (error instanceof ApiError && error.status < 500 && error.status !== 429) this.pending = null;
      this.report(error);
    } finally {
      this.adding = false;
    }
  }

  /**
   * Runs `change`, then redraws from the server's answers; a failure is reported and the
   * list reloaded, so the screen never shows what the server does not hold.
   * @param {() => Promise<void>} change
   */
  async apply(change) {
    try {
      await change();
      this.changes += 1;
      this.render();
    } catch (error) {
      this.report(error);
      if (!(error instanceof SignedOut)) await this.reload();
    }
  }

  /**
   * @param {Task} task
   * @param {Partial<Task>} patch
   */
  async update(task, patch) {
    await this.apply(async () => {
      const updated = await this.store.update(task.id, patch);
      this.tasks = this.tasks.map((each) => (each.id === updated.id ? updated : each));
      // Completing a recurring task makes its next occurrence on the server.
      if (patch.status === 'completed' && task.recurrence) this.tasks = await this.store.all();
    });
  }

  /** @param {Task} task */
  async remove(task) {
    await this.apply(async () => {
      await this.removeOnServer(task);
      this.tasks = this.tasks.filter((each) => each.id !== task.id);
    });
  }

  /**
   * Deletes `task`; already gone (a double click, another tab) is as good.
   * @param {Task} task
   */
  async removeOnServer(task) {
    try {
      await this.store.remove(task.id);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }

  /**
   * Runs a change of many tasks with its controls disabled, so two cannot overlap.
   * @param {() => Promise<void>} change
   */
  async bulk(change) {
    this.toggleAll.disabled = true;
    this.clearCompleted.disabled = true;
    try {
      await this.apply(change);
    } finally {
      this.toggleAll.disabled = false;
      this.clearCompleted.disabled = false;
    }
  }

  /** @param {boolean} completed */
  async markAll(completed) {
    const status = completed ? 'completed' : 'open';
    await this.bulk(async () => {
      for (const task of this.tasks.filter((each) => each.status !== status)) {
        const updated = await this.store.update(task.id, { status });
        this.tasks = this.tasks.map((each) => (each.id === updated.id ? updated : each));
      }
      if (completed) this.tasks = await this.store.all();
    });
  }

  async removeCompleted() {
    await this.bulk(async () => {
      for (const task of this.tasks.filter((each) => each.status === 'completed')) {
        await this.removeOnServer(task);
        this.tasks = this.tasks.filter((each) => each.id !== task.id);
      }
    });
  }

  render() {
    const now = new Date();
    const due = this.dueFilter.value;
    const tag = this.tagFilter.value;
    const visible = this.tasks.filter(
      (task) =>
        (this.filter === 'all' || (this.filter === 'active' ? task.status === 'open' : task.status === 'completed')) &&
        (!tag || task.tags.includes(tag)) &&
        (!due || (due === 'week' ? ['today', 'week'].includes(dueBucket(task.due, now)) : dueBucket(task.due, now) === due)),
    );
    const tags = [...new Set(this.tasks.flatMap((task) => task.tags))].sort();
    this.tagFilter.replaceChildren(h('option', { value: '' }, 'All tags'), ...tags.map((name) => h('option', { value: name, selected: name === tag }, name)));
    const editing = this.list.querySelector('li.editing');
    if (!editing) {
      const focus = this.focusedControl();
      this.list.replaceChildren(...visible.map((task) => this.item(task)));
      this.restoreFocus(focus, visible);
    }
    const left = this.tasks.filter((task) => task.status === 'open').length;
    const completed = this.tasks.length - left;
    this.count.replaceChildren(h('strong', {}, String(left)), ` ${left === 1 ? 'item' : 'items'} left`);
    for (const link of this.root.querySelectorAll('.filters a')) {
      const current = ROUTES[link.getAttribute('href') ?? ''] === this.filter;
      link.classList.toggle('selected', current);
      if (current) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    this.clearCompleted.hidden = completed === 0;
    this.toggleAll.checked = this.tasks.length > 0 && left === 0;
    const empty = this.tasks.length === 0;
    this.footer.hidden = empty;
    this.list.hidden = empty;
    find(this.root, '.toggle-all-label', HTMLElement).hidden = empty;
    find(this.root, '.refine', HTMLElement).hidden = empty;
  }

  /**
   * Which control of which row has the focus, to give it back after the list is redrawn.
   * @returns {{ id: string, control: string, index: number } | null}
   */
  focusedControl() {
    const active = document.activeElement;
    const row = active?.closest('li[data-id]');
    if (!(active instanceof HTMLElement) || !(row instanceof HTMLElement) || !this.list.contains(row)) return null;
    return { id: row.dataset.id ?? '', control: active.classList[0] ?? '', index: [...this.list.children].indexOf(row) };
  }

  /**
   * @param {{ id: string, control: string, index: number } | null} focus
   * @param {Task[]} visible
   */
  restoreFocus(focus, visible) {
    if (!focus) return;
    const row = this.list.querySelector(`li[data-id="${CSS.escape(focus.id)}"]`) ?? this.list.children[Math.min(focus.index, visible.length - 1)];
    const target = row?.querySelector(`.${CSS.escape(focus.control || 'toggle')}`) ?? row?.querySelector('.toggle');
    if (target instanceof HTMLElement) target.focus();
    else this.newTodo.focus();
  }

  /**
   * One row: `data-testid`s and names as TodoMVC's end-to-end suites expect.
   * @param {Task} task
   */
  item(task) {
    const done = task.status === 'completed';
    const titleId = `title-${task.id}`;
    const toggle = h('input', { class: 'toggle', type: 'checkbox', 'aria-label': 'Toggle Todo', 'aria-describedby': titleId, checked: done });
    // Focusable, so a keyboard can edit it too (Enter or F2), as a double-click does.
    const title = h('label', { 'data-testid': 'todo-title', class: 'title', id: titleId, tabindex: '0' }, task.title);
    const destroy = h('button', { type: 'button', class: 'destroy', 'aria-label': 'Delete', 'aria-describedby': titleId }, '×');
    const details = [task.due ? `due ${describe(task.due)}` : '', task.recurrence ? `repeats ${task.recurrence.freq}` : '', ...task.tags.map((name) => `#${name}`)]
      .filter(Boolean)
      .join(' · ');
    const href = `#/lists/${encodeURIComponent(task.list_id)}/tasks/${encodeURIComponent(task.id)}`;
    const open = h('a', { class: 'open', href, 'aria-label': `Details of ${task.title}` }, '›');
    const row = h(
      'li',
      { 'data-testid': 'todo-item', 'data-id': task.id, class: done ? 'completed' : null },
      toggle,
      h('div', { class: 'todo-text' }, title, details ? h('span', { class: 'meta' }, details) : null),
      open,
      destroy,
    );
    toggle.addEventListener('change', () => this.update(task, { status: toggle.checked ? 'completed' : 'open' }));
    destroy.addEventListener('click', () => this.remove(task));
    title.addEventListener('dblclick', () => this.edit(row, task));
    // Files dropped on a row are attached to its task.
    acceptFileDrops(row, 'drop-target', (dropped) => this.attach(task, dropped));
    title.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === 'F2') {
        event.preventDefault();
        this.edit(row, task);
      }
    });
    return row;
  }

  /**
   * Edits a title in place: Enter or leaving the field saves, Escape cancels, an empty title
   * deletes the task.
   * @param {HTMLLIElement} row
   * @param {Task} task
   */
  edit(row, task) {
    const input = h('input', { class: 'edit', 'aria-label': 'Edit', value: task.title, maxlength: '200' });
    row.classList.add('editing');
    row.append(input);
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    let done = false;
    const finish = async (/** @type {boolean} */ save) => {
      if (done) return;
      done = true;
      row.classList.remove('editing');
      input.remove();
      // Back to the title (a redraw below finds it by the row's id).
      row.querySelector('label')?.focus();
      const title = input.value.trim();
      if (!save || title === task.title) this.render();
      else if (!title) await this.remove(task);
      else await this.update(task, { title });
    };
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.isComposing) finish(true);
      else if (event.key === 'Escape') finish(false);
    });
    input.addEventListener('blur', () => finish(true));
  }
}
