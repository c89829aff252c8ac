// @ts-check
/**
 * The signed-in session, kept in localStorage so a reload stays signed in. The strict
 * Content-Security-Policy (no inline or foreign script) is what protects it from scripts.
 *
 * A copy also goes to IndexedDB, the one store every tab reads consistently: Chromium
 * propagates localStorage writes to other tabs' processes asynchronously, and a tab that
 * rotated the refresh token from a stale copy would present a used token — reuse, which
 * ends the session. Refreshing (under a lock) therefore reads `latest()`.
 */

/**
 * @typedef {{ id: string, email: string, name?: string | null }} User
 * @typedef {{ access_token: string, refresh_token: string, user: User }} SessionData
 */

const KEY = 'todo.session';
const DATABASE = 'todo';
const TABLE = 'session';

/** @returns {Promise<IDBDatabase>} */
function database() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(TABLE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Runs one request in a transaction and waits for it to commit.
 * @template T
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => IDBRequest<T>} operation
 * @returns {Promise<T>}
 */
async function transact(mode, operation) {
  const db = await database();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(TABLE, mode);
      const request = operation(transaction.objectStore(TABLE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  } finally {
    db.close();
  }
}

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

  /**
   * The session as last written by any tab (IndexedDB), else this tab's copy.
   * @returns {Promise<SessionData | null>}
   */
  async latest() {
    try {
      const data = await transact('readonly', (store) => store.get(KEY));
      if (data && typeof data.refresh_token === 'string') return data;
    } catch {
      // No IndexedDB (a private mode may refuse it): this tab's copy is all there is.
    }
    return this.get();
  }

  /**
   * @param {SessionData} data
   * @returns {Promise<void>} once every tab will read it
   */
  async set(data) {
    this.storage.setItem(KEY, JSON.stringify(data));
    try {
      await transact('readwrite', (store) => store.put(data, KEY));
    } catch {
      // As in latest(): localStorage alone.
    }
  }

  async clear() {
    this.storage.removeItem(KEY);
    try {
      await transact('readwrite', (store) => store.delete(KEY));
    } catch {
      // As in latest().
    }
  }
}
