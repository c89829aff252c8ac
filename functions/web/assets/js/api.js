// @ts-check
/**
 * The API client: JSON over fetch, the bearer token, one transparent refresh on a 401, and
 * problem+json answers turned into `ApiError`s that name their fields.
 */

/**
 * @typedef {import('./session.js').Session} Session
 * @typedef {import('./session.js').User} User
 * @typedef {{ field: string, message: string }} FieldError
 * @typedef {{ type?: string, title?: string, status: number, detail?: string, errors?: FieldError[] }} Problem
 * @typedef {{ body?: unknown, headers?: Record<string, string>, auth?: boolean }} RequestOptions
 * @typedef {{ status: number, body: any, headers: Headers }} Answer
 */

export class ApiError extends Error {
  /** @param {Problem} problem */
  constructor(problem) {
    super(problem.detail || problem.title || `The request failed (${problem.status}).`);
    this.name = 'ApiError';
    this.problem = problem;
  }

  get status() {
    return this.problem.status;
  }

  /** @returns {FieldError[]} */
  get fieldErrors() {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

/** The server could not be reached: nothing was changed, and the caller keeps what was typed. */
export class NetworkError extends Error {
  constructor() {
    super('The server cannot be reached. Check the connection and try again.');
    this.name = 'NetworkError';
  }
}

/** The session ended (refresh refused): the app goes back to the log-in screen. */
export class SignedOut extends Error {
  constructor() {
    super('Your session has ended. Please log in again.');
    this.name = 'SignedOut';
  }
}

export class Api {
  /**
   * @param {Session} session
   * @param {() => void} onSignedOut called once the session is over
   */
  constructor(session, onSignedOut) {
    this.session = session;
    /** @private */
    this.onSignedOut = onSignedOut;
    /** @private @type {Promise<boolean> | null} */
    this.refreshing = null;
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {RequestOptions} [options]
   * @returns {Promise<Answer>}
   */
  async request(method, path, options = {}) {
    const auth = options.auth ?? true;
    const token = auth ? this.session.get()?.access_token : undefined;
    let response = await this.send(method, path, options, token);
    if (response.status === 401 && auth) {
      if (await this.refresh(token)) response = await this.send(method, path, options, this.session.get()?.access_token);
      if (response.status === 401) {
        const hadSession = this.session.get() !== null;
        await this.session.clear();
        if (hadSession) this.onSignedOut();
        throw new SignedOut();
      }
    }
    const body = response.status === 204 ? null : await readBody(response);
    if (!response.ok) throw new ApiError(problem(response.status, body));
    return { status: response.status, body, headers: response.headers };
  }

  /**
   * @private
   * @param {string} method
   * @param {string} path
   * @param {RequestOptions} options
   * @param {string | undefined} token the access token to send, if any
   */
  async send(method, path, options, token) {
    /** @type {Record<string, string>} */
    const headers = { accept: 'application/json', ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    try {
      return await fetch(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    } catch {
      throw new NetworkError();
    }
  }

  /**
   * Rotates the refresh token once for every request that got a 401 meanwhile, in this tab
   * and (through a Web Lock) in the app's other tabs: two rotations of one token look like
   * reuse and end the session. `rejected` is the access token the server refused: if the
   * session holds another one by now, some tab has rotated already and that one is used.
   * @private
   * @returns {Promise<boolean>} whether there is a fresh access token to retry with
   */
  refresh(/** @type {string | undefined} */ rejected) {
    this.refreshing ??= (navigator.locks ? navigator.locks.request('todo.refresh', () => this.rotate(rejected)) : this.rotate(rejected)).finally(
      () => {
        this.refreshing = null;
      },
    );
    return this.refreshing;
  }

  /**
   * @private
   * @param {string | undefined} rejected the access token the server refused
   * @returns {Promise<boolean>}
   */
  async rotate(rejected) {
    const session = await this.session.latest();
    if (!session) return false;
    // Another tab rotated while this one waited for the lock: its token is the fresh one.
    if (session.access_token !== rejected) {
      await this.session.set(session);
      return true;
    }
    /** @type {Response} */
    let response;
    try {
      response = await fetch('/sessions/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ refresh_token: session.refresh_token }),
      });
    } catch {
      throw new NetworkError();
    }
    // Only a refusal ends the session; a throttled or failing server does not.
    if (response.status === 400 || response.status === 401) return false;
    if (!response.ok) throw new ApiError(problem(response.status, await readBody(response)));
    const tokens = await response.json();
    // Unless a log-out or another log-in replaced the session meanwhile.
    if ((await this.session.latest())?.refresh_token === session.refresh_token) {
      await this.session.set({ ...session, access_token: tokens.access_token, refresh_token: tokens.refresh_token });
    }
    return true;
  }

  /**
   * @param {string} email
   * @param {string} password
   * @param {string} name
   */
  async signUp(email, password, name) {
    const answer = await this.request('POST', '/users', { auth: false, body: name ? { email, password, name } : { email, password } });
    await this.startSession(answer.body);
  }

  /**
   * @param {string} email
   * @param {string} password
   */
  async logIn(email, password) {
    const answer = await this.request('POST', '/sessions', { auth: false, body: { email, password } });
    await this.startSession(answer.body);
  }

  /**
   * Deletes the account; the API checks the password. The app checks it first too (a log-in):
   * while a deploy shifts traffic, a request may still reach a version of the function from
   * before the API asked for it, which would delete whatever was typed.
   * @param {string} password
   */
  async deleteAccount(password) {
    const email = this.session.get()?.user.email ?? '';
    await this.logIn(email, password);
    await this.request('DELETE', '/users/me', { body: { password } });
    await this.session.clear();
  }

  /** Ends the session here whatever the server says (it may be unreachable). */
  async logOut() {
    try {
      await this.request('DELETE', '/sessions/current');
    } catch {
      // The refresh token is forgotten below; the server's copy expires on its own.
    } finally {
      await this.session.clear();
    }
  }

  /**
   * @private
   * @param {{ user: User, access_token: string, refresh_token: string }} tokens
   */
  async startSession(tokens) {
    await this.session.set({ access_token: tokens.access_token, refresh_token: tokens.refresh_token, user: tokens.user });
  }
}

/**
 * A problem from an error answer: the API's problem+json, or API Gateway's own
 * `{"message": ...}` (throttling, payload too large).
 * @param {number} status
 * @param {any} body
 * @returns {Problem}
 */
function problem(status, body) {
  if (body && typeof body === 'object') return { ...body, status: typeof body.status === 'number' ? body.status : status, detail: body.detail ?? body.message };
  return { status };
}

/** @param {Response} response */
async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { status: response.status, detail: text.slice(0, 200) };
  }
}
