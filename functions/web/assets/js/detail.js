// @ts-check
/**
 * One task opened: notes, due date and time, priority, tags, recurrence and reminder, saved
 * with If-Match (a change made elsewhere meanwhile is not overwritten); and its files.
 */

import { acceptFileDrops, h, find } from './dom.js';
import { ApiError } from './api.js';
import { showErrors } from './auth.js';
import { localParts, fromLocal, describe } from './dates.js';

/**
 * @typedef {import('./tasks.js').Task} Task
 * @typedef {import('./tasks.js').TaskStore} TaskStore
 * @typedef {import('./files.js').FileStore} FileStore
 * @typedef {import('./files.js').FileInfo} FileInfo
 */

/**
 * @param {string} id
 * @param {string} label
 * @param {HTMLElement} control
 */
function field(id, label, control) {
  control.id = id;
  control.setAttribute('aria-describedby', `${id}-error`);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, h('p', { id: `${id}-error`, class: 'field-error' }));
}

/**
 * @param {string} value
 * @param {string} text
 * @param {boolean} selected
 */
function option(value, text, selected) {
  return h('option', { value, selected }, text);
}

/** @param {number} bytes */
function size(bytes) {
  return bytes < 1024 ? `${bytes} B` : bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1048576).toFixed(1)} MB`;
}

export class TaskDetail {
  /**
   * @param {TaskStore} tasks
   * @param {FileStore} files
   * @param {string} id
   * @param {(error: unknown) => void} report
   * @param {(message: string) => void} say
   */
  constructor(tasks, files, id, report, say) {
    this.tasks = tasks;
    this.files = files;
    this.id = id;
    this.report = report;
    this.say = say;
    this.root = h('section', { class: 'detail', 'aria-labelledby': 'detail-title' }, h('p', {}, 'Loading…'));
  }

  async start() {
    try {
      const { task, etag } = await this.tasks.get(this.id);
      this.render(task, etag);
      await this.refreshFiles();
    } catch (error) {
      this.report(error);
      this.root.replaceChildren(h('p', {}, 'This task cannot be shown.'), h('p', {}, h('a', { href: '#/' }, 'Back to the list')));
    }
  }

  /**
   * @param {Task} task
   * @param {string | null} etag
   */
  render(task, etag) {
    const due = localParts(task.due);
    const reminder = localParts(task.reminder_at);
    const recurrence = task.recurrence;
    const form = h(
      'form',
      { class: 'task-form', novalidate: true },
      field('task-title', 'Title', h('input', { name: 'title', value: task.title, required: true, maxlength: '200' })),
      field('task-notes', 'Notes', h('textarea', { name: 'notes', rows: '4', maxlength: '10000' }, task.notes ?? '')),
      h(
        'div',
        { class: 'row' },
        field('task-due-date', 'Due date', h('input', { name: 'due', type: 'date', value: due.date })),
        field('task-due-time', 'Due time', h('input', { name: 'due_time', type: 'time', value: due.time })),
      ),
      field(
        'task-priority',
        'Priority',
        h(
          'select',
          { name: 'priority' },
          option('', 'None', task.priority === null),
          ...[1, 2, 3, 4].map((level) => option(String(level), level === 1 ? '1 (highest)' : String(level), task.priority === level)),
        ),
      ),
      field('task-tags', 'Tags (comma-separated)', h('input', { name: 'tags', value: task.tags.join(', ') })),
      h(
        'div',
        { class: 'row' },
        field(
          'task-repeat',
          'Repeats',
          h(
            'select',
            { name: 'recurrence' },
            option('', 'Never', !recurrence),
            ...['daily', 'weekly', 'monthly', 'yearly'].map((freq) => option(freq, freq[0].toUpperCase() + freq.slice(1), recurrence?.freq === freq)),
          ),
        ),
        field('task-interval', 'Every', h('input', { name: 'interval', type: 'number', min: '1', max: '365', value: String(recurrence?.interval ?? 1) })),
      ),
      field(
        'task-reminder',
        'Reminder',
        h('input', { name: 'reminder_at', type: 'datetime-local', value: reminder.date ? `${reminder.date}T${reminder.time}` : '' }),
      ),
      h('p', { class: 'form-error', role: 'alert' }),
      h('p', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save'), ' ', h('a', { href: '#/' }, 'Back to the list')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save(form, etag);
    });

    const picker = h('input', { type: 'file', id: 'file-picker', class: 'visually-hidden', multiple: true });
    const drop = h(
      'div',
      { class: 'drop-zone', 'data-testid': 'drop-zone' },
      h('label', { for: 'file-picker', class: 'picker-label' }, 'Attach a file'),
      ' or drop files here',
      picker,
    );
    picker.addEventListener('change', () => {
      if (picker.files) this.attachAll([...picker.files]);
      picker.value = '';
    });
    acceptFileDrops(drop, 'over', (dropped) => this.attachAll(dropped));

    this.root.replaceChildren(
      h('h2', { id: 'detail-title' }, task.title),
      h('p', { hidden: task.status !== 'completed' }, 'Completed.'),
      form,
      h(
        'section',
        { class: 'files', 'aria-labelledby': 'files-title' },
        h('h3', { id: 'files-title' }, 'Files'),
        h('ul', { class: 'file-list', 'aria-label': 'Files' }),
        h('div', { class: 'uploads' }),
        drop,
      ),
    );
  }

  /**
   * @param {HTMLFormElement} form
   * @param {string | null} etag
   */
  async save(form, etag) {
    const value = (/** @type {string} */ name) => {
      const control = form.elements.namedItem(name);
      return control instanceof HTMLInputElement || control instanceof HTMLTextAreaElement || control instanceof HTMLSelectElement ? control.value : '';
    };
    const freq = value('recurrence');
    const reminder = value('reminder_at');
    /** @type {Record<string, unknown>} */
    const patch = {
      title: value('title').trim(),
      notes: value('notes').trim() || null,
      due: fromLocal(value('due'), value('due_time')),
      priority: value('priority') ? Number(value('priority')) : null,
      tags: value('tags').split(',').map((tag) => tag.trim()).filter(Boolean),
      recurrence: freq ? { freq, interval: Number(value('interval')) || 1 } : null,
      reminder_at: reminder ? new Date(reminder).toISOString() : null,
    };
    const button = form.querySelector('button[type=submit]');
    if (button instanceof HTMLButtonElement) button.disabled = true;
    for (const element of form.querySelectorAll('.field-error, .form-error')) element.textContent = '';
    try {
      await this.tasks.update(this.id, /** @type {any} */ (patch), etag);
      this.say('Saved.');
      location.hash = '#/';
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) {
        this.say('This task was changed elsewhere meanwhile: here is the latest version. Make your change again.');
        await this.start();
        return;
      }
      showErrors(form, error);
    } finally {
      if (button instanceof HTMLButtonElement) button.disabled = false;
    }
  }

  async refreshFiles() {
    const list = find(this.root, '.file-list', HTMLUListElement);
    try {
      const files = await this.files.list(this.id);
      list.replaceChildren(...files.map((file) => this.fileRow(file)));
    } catch (error) {
      this.report(error);
    }
  }

  /** @param {FileInfo} file */
  fileRow(file) {
    const remove = h('button', { type: 'button', class: 'link-button' }, `Delete ${file.name}`);
    remove.addEventListener('click', async () => {
      try {
        await this.files.remove(this.id, file.id);
        await this.refreshFiles();
      } catch (error) {
        this.report(error);
      }
    });
    const name =
      file.status === 'available'
        ? h('button', { type: 'button', class: 'link-button download' }, `Download ${file.name}`)
        : h('span', {}, file.name);
    if (name instanceof HTMLButtonElement) {
      // The download URL is short-lived: fetch a fresh one at the click.
      name.addEventListener('click', async () => {
        try {
          const fresh = await this.files.get(this.id, file.id);
          if (fresh.download) {
            const link = h('a', { href: fresh.download.url, download: file.name, hidden: true });
            document.body.append(link);
            link.click();
            link.remove();
          }
        } catch (error) {
          this.report(error);
        }
      });
    }
    return h(
      'li',
      { 'data-testid': 'file', 'data-status': file.status },
      name,
      h('span', { class: 'file-meta' }, ` ${size(file.size)}, ${file.status}${file.uploaded_at ? `, ${describe(file.uploaded_at)}` : ''} `),
      remove,
    );
  }

  /** @param {File[]} files */
  async attachAll(files) {
    for (const file of files) await this.attach(file);
  }

  /** @param {File} file */
  async attach(file) {
    const uploads = find(this.root, '.uploads', HTMLDivElement);
    const bar = h('progress', { max: '1', value: '0', 'aria-label': `Uploading ${file.name}` });
    const row = h('p', { class: 'upload' }, bar, ` ${file.name}`);
    uploads.append(row);
    try {
      const recorded = await this.files.attach(this.id, file, (fraction) => {
        bar.value = fraction;
      });
      bar.value = 1;
      await this.refreshFiles();
      const available = await this.files.untilAvailable(this.id, recorded.id);
      if (available.status !== 'available') this.say(`${file.name} is uploaded; the storage has not confirmed it yet.`);
      await this.refreshFiles();
    } catch (error) {
      this.report(error);
    } finally {
      row.remove();
    }
  }
}
