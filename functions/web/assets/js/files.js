// @ts-check
/**
 * A task's files: listed, uploaded straight to the storage URL the API hands out (with
 * exactly the headers it names, showing progress), downloaded and deleted.
 */

/**
 * @typedef {import('./api.js').Api} Api
 * @typedef {{ url: string, expires_at: string }} Download
 * @typedef {{
 *   id: string, task_id: string, name: string, content_type: string, size: number,
 *   status: 'pending' | 'available', created_at: string, uploaded_at: string | null, download?: Download
 * }} FileInfo
 * @typedef {{ url: string, method: string, headers: Record<string, string>, expires_at: string }} Upload
 */

/** Headers the browser sets itself and refuses to take from a script. */
const BROWSER_HEADERS = new Set(['content-length', 'host']);

export class UploadFailed extends Error {
  /** @param {number} status */
  constructor(status) {
    super(status === 0 ? 'The upload was interrupted: the storage could not be reached.' : `The storage refused the upload (${status}).`);
    this.name = 'UploadFailed';
  }
}

export class FileStore {
  /**
   * @param {Api} api
   * @param {() => string} listId the id of the list holding the tasks
   */
  constructor(api, listId) {
    this.api = api;
    this.listId = listId;
  }

  /** @param {string} taskId */
  base(taskId) {
    return `/lists/${encodeURIComponent(this.listId())}/tasks/${encodeURIComponent(taskId)}/files`;
  }

  /**
   * Every file of the task, following the cursor to the end.
   * @param {string} taskId
   * @returns {Promise<FileInfo[]>}
   */
  async list(taskId) {
    /** @type {FileInfo[]} */
    const files = [];
    /** @type {string | null | undefined} */
    let cursor;
    do {
      const query = cursor ? `?${new URLSearchParams({ cursor })}` : '';
      const { body } = await this.api.request('GET', `${this.base(taskId)}${query}`);
      files.push(...body.items);
      cursor = body.next_cursor;
    } while (cursor);
    return files;
  }

  /**
   * @param {string} taskId
   * @param {string} fileId
   * @returns {Promise<FileInfo>}
   */
  async get(taskId, fileId) {
    const { body } = await this.api.request('GET', `${this.base(taskId)}/${encodeURIComponent(fileId)}`);
    return body;
  }

  /**
   * @param {string} taskId
   * @param {string} fileId
   */
  async remove(taskId, fileId) {
    await this.api.request('DELETE', `${this.base(taskId)}/${encodeURIComponent(fileId)}`);
  }

  /**
   * Attaches `file` to the task: the API records it (and may refuse its type, size or the
   * task's count), then the bytes go to the upload URL; `progress` gets the fraction sent.
   * @param {string} taskId
   * @param {File} file
   * @param {(fraction: number) => void} progress
   * @returns {Promise<FileInfo>} the file as recorded (pending until the storage confirms)
   */
  async attach(taskId, file, progress) {
    const { body } = await this.api.request('POST', this.base(taskId), {
      body: { name: file.name, content_type: file.type || 'application/octet-stream', size: file.size },
    });
    await send(body.upload, file, progress);
    return body.file;
  }

  /**
   * Waits for an uploaded file to become available (on AWS the storage's event arrives a
   * moment after the upload), asking again with a growing delay.
   * @param {string} taskId
   * @param {string} fileId
   * @returns {Promise<FileInfo>}
   */
  async untilAvailable(taskId, fileId) {
    let delay = 250;
    for (;;) {
      const file = await this.get(taskId, fileId);
      if (file.status === 'available') return file;
      if (delay > 16000) return file;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay *= 2;
    }
  }
}

/**
 * The upload itself: XMLHttpRequest rather than fetch, for its upload progress events.
 * @param {Upload} upload
 * @param {Blob} blob
 * @param {(fraction: number) => void} progress
 * @returns {Promise<void>}
 */
function send(upload, blob, progress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(upload.method, upload.url);
    for (const [name, value] of Object.entries(upload.headers)) {
      if (!BROWSER_HEADERS.has(name.toLowerCase())) request.setRequestHeader(name, value);
    }
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) progress(event.loaded / event.total);
    });
    request.addEventListener('load', () => (request.status >= 200 && request.status < 300 ? resolve() : reject(new UploadFailed(request.status))));
    request.addEventListener('error', () => reject(new UploadFailed(0)));
    request.send(blob);
  });
}
