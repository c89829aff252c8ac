// @ts-check
/**
 * Tasks on the server: the only module of the task list that talks to the API.
 */

/**
 * @typedef {import('./api.js').Api} Api
 * @typedef {{ freq: 'daily' | 'weekly' | 'monthly' | 'yearly', interval: number }} Recurrence
 * @typedef {{
 *   id: string, list_id: string, created_by: string, title: string, notes: string | null, status: 'open' | 'completed',
 *   completed_at: string | null, due: string | null, priority: number | null, tags: string[],
 *   recurrence: Recurrence | null, reminder_at: string | null, created_at: string, updated_at: string
 * }} Task
 */

/** The API's largest page. */
const PAGE = 100;

export class TaskStore {
  /**
   * @param {Api} api
   * @param {() => string} listId the id of the list shown (the account's Inbox, whose id is the account's)
   */
  constructor(api, listId) {
    this.api = api;
    this.listId = listId;
  }

  /** The collection URL of the list's tasks. */
  base() {
    return `/lists/${encodeURIComponent(this.listId())}/tasks`;
  }

  /** @param {string} id */
  path(id) {
    return `${this.base()}/${encodeURIComponent(id)}`;
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
      const { body } = await this.api.request('GET', `${this.base()}?${query}`);
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
    const { body } = await this.api.request('POST', this.base(), { body: { title }, headers: { 'idempotency-key': key } });
    return body;
  }

  /**
   * One task and its version (ETag), for an edit that must not overwrite another one.
   * @param {string} id
   * @returns {Promise<{ task: Task, etag: string | null }>}
   */
  async get(id) {
    const { body, headers } = await this.api.request('GET', this.path(id));
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
    const { body } = await this.api.request('PATCH', this.path(id), { body: patch, headers });
    return body;
  }

  /** @param {string} id */
  async remove(id) {
    await this.api.request('DELETE', this.path(id));
  }
}
