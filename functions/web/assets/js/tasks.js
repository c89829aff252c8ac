// @ts-check
/**
 * Tasks on the server: the only module of the task list that talks to the API.
 */

/**
 * @typedef {import('./api.js').Api} Api
 * @typedef {{ freq: 'daily' | 'weekly' | 'monthly' | 'yearly', interval: number }} Recurrence
 * @typedef {{
 *   id: string, title: string, notes: string | null, status: 'open' | 'completed',
 *   completed_at: string | null, due: string | null, priority: number | null, tags: string[],
 *   recurrence: Recurrence | null, reminder_at: string | null, created_at: string, updated_at: string
 * }} Task
 */

/** The API's largest page. */
const PAGE = 100;

export class TaskStore {
  /** @param {Api} api */
  constructor(api) {
    this.api = api;
  }

  /**
   * Every task, page after page until the API says there is no next one.
   * @returns {Promise<Task[]>}
   */
  async all() {
    /** @type {Task[]} */
    const tasks = [];
    /** @type {string | null | undefined} */
    let cursor;
    do {
      const query = new URLSearchParams({ status: 'all', limit: String(PAGE) });
      if (cursor) query.set('cursor', cursor);
      const { body } = await this.api.request('GET', `/tasks?${query}`);
      tasks.push(...body.items);
      cursor = body.next_cursor;
    } while (cursor);
    return tasks;
  }

  /**
   * Creates a task; retrying with the same `key` (after a network failure) creates it once.
   * @param {string} title
   * @param {string} key an Idempotency-Key
   * @returns {Promise<Task>}
   */
  async create(title, key) {
    const { body } = await this.api.request('POST', '/tasks', { body: { title }, headers: { 'idempotency-key': key } });
    return body;
  }

  /**
   * One task and its version (ETag), for an edit that must not overwrite another one.
   * @param {string} id
   * @returns {Promise<{ task: Task, etag: string | null }>}
   */
  async get(id) {
    const { body, headers } = await this.api.request('GET', `/tasks/${encodeURIComponent(id)}`);
    return { task: body, etag: headers.get('etag') };
  }

  /**
   * @param {string} id
   * @param {Partial<Task>} patch a JSON merge patch
   * @param {string | null} [etag] when given, the update fails (412) if the task changed since
   * @returns {Promise<Task>}
   */
  async update(id, patch, etag) {
    const headers = etag ? { 'if-match': etag } : undefined;
    const { body } = await this.api.request('PATCH', `/tasks/${encodeURIComponent(id)}`, { body: patch, headers });
    return body;
  }

  /** @param {string} id */
  async remove(id) {
    await this.api.request('DELETE', `/tasks/${encodeURIComponent(id)}`);
  }
}
