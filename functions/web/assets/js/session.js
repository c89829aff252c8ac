// @ts-check
/**
 * The signed-in session, kept in localStorage so a reload stays signed in. The strict
 * Content-Security-Policy (no inline or foreign script) is what protects it from scripts.
 */

/**
 * @typedef {{ id: string, email: string, name?: string | null }} User
 * @typedef {{ access_token: string, refresh_token: string, user: User }} SessionData
 */

const KEY = 'todo.session';

export class Session {
  /** @param {Storage} storage */
  constructor(storage) {
    /** @private */
    this.storage = storage;
  }

  /** @returns {SessionData | null} */
  get() {
    try {
      const data = JSON.parse(this.storage.getItem(KEY) ?? 'null');
      return data && typeof data.access_token === 'string' && typeof data.refresh_token === 'string' ? data : null;
    } catch {
      return null;
    }
  }

  /** @param {SessionData} data */
  set(data) {
    this.storage.setItem(KEY, JSON.stringify(data));
  }

  clear() {
    this.storage.removeItem(KEY);
  }
}
