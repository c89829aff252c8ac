// @ts-check
/**
 * The app: signed out, the log-in and sign-up screens; signed in, the bar of lists (own and
 * shared, invitations to answer), the list shown (`#/`, `#/active`, `#/completed`) with its
 * share dialog, a task's detail (`#/tasks/<id>`) and settings (`#/settings`), with the
 * notification bell in the header.
 */

import { Api, ApiError, SignedOut } from './api.js';
import { authScreen } from './auth.js';
import { TaskDetail } from './detail.js';
import { find } from './dom.js';
import { FileStore } from './files.js';
import { ListStore, ListsBar, ShareDialog, listHeading } from './lists.js';
import { Bell } from './notifications.js';
import { Session } from './session.js';
import { settingsScreen } from './settings.js';
import { TaskStore } from './tasks.js';
import { TodoList } from './todos.js';

const main = find(document, '#main', HTMLElement);
const status = find(document, '#status', HTMLElement);
const account = find(document, '#account', HTMLElement);
const signedInAs = find(document, '#signed-in-as', HTMLElement);
const bellSlot = find(document, '#bell-slot', HTMLElement);
const listsSlot = find(document, '#lists-slot', HTMLElement);
/** "Double-click to edit a todo": said where there are todos. */
const hint = find(document, '#hint', HTMLElement);
const session = new Session(window.localStorage);
const api = new Api(session, () => {
  say('Your session has ended. Please log in again.');
  showSignedOut('log-in');
});
/** The account's Inbox, whose id is the account's. */
const inbox = () => session.get()?.user.id ?? '';
/** The list shown (its id): the Inbox until another is chosen; kept across reloads of the tab. */
let current = sessionStorage.getItem('todo.list') ?? '';
const shownList = () => current || inbox();
const lists = new ListStore(api);

/** @type {TodoList | null} */
let todos = null;
/** @type {Bell | null} */
let bell = null;
/** @type {ListsBar | null} */
let bar = null;
/** @type {ShareDialog | null} */
let share = null;
/** Lists whose first load has run. */
const started = new WeakSet();

/** @param {string} message */
function say(message) {
  status.textContent = message;
}

/**
 * Says what went wrong: a problem's detail and each of its field errors.
 * @param {unknown} error
 */
function report(error) {
  if (error instanceof SignedOut) return;
  const fields = error instanceof ApiError ? error.fieldErrors.map(({ field, message }) => `${field.replaceAll('_', ' ')}: ${message}.`) : [];
  say([error instanceof Error ? error.message : String(error), ...fields].join(' '));
}

/**
 * Attaches files dropped on a task's row in the list, saying how it goes.
 * @param {import('./tasks.js').Task} task
 * @param {File[]} dropped
 */
async function attachDropped(task, dropped) {
  for (const file of dropped) {
    try {
      say(`Uploading ${file.name} to “${task.title}”…`);
      // Progress is shown on the task's own page; here the live region says only start and end.
      const files = new FileStore(api, () => task.list_id);
      const recorded = await files.attach(task.id, file, () => {});
      const available = await files.untilAvailable(task.id, recorded.id);
      say(available.status === 'available' ? `${file.name} is attached to “${task.title}”.` : `${file.name} is uploaded; the storage has not confirmed it yet.`);
    } catch (error) {
      report(error);
    }
  }
}

/** @param {import('./auth.js').Mode} mode */
function showSignedOut(mode) {
  // The next person to sign in starts at the list, not at this one's task or settings.
  if (location.hash) history.replaceState(null, '', location.pathname);
  todos?.stop();
  todos = null;
  bell?.stop();
  bell = null;
  bellSlot.replaceChildren();
  bar = null;
  share?.root.remove();
  share = null;
  current = '';
  sessionStorage.removeItem('todo.list');
  listsSlot.replaceChildren();
  account.hidden = true;
  hint.hidden = true;
  const submit = async (/** @type {import('./auth.js').Credentials} */ credentials) => {
    if (mode === 'sign-up') await api.signUp(credentials.email, credentials.password, credentials.name);
    else await api.logIn(credentials.email, credentials.password);
    say('');
    await showSignedIn();
  };
  main.replaceChildren(authScreen(mode, submit, showSignedOut));
  main.querySelector('input')?.focus();
}

async function showSignedIn() {
  const user = session.get()?.user;
  signedInAs.textContent = user ? `Signed in as ${user.name || user.email}` : '';
  account.hidden = false;
  hint.hidden = false;
  bell?.stop();
  bell = new Bell(api, report, () => bar?.showInvitations());
  bellSlot.replaceChildren(bell.button, bell.panel);
  bell.start();
  bar = new ListsBar(lists, report, (list) => showList(list.id));
  share?.root.remove();
  share = new ShareDialog(lists, report, say, user?.id ?? '', () => leaveShown());
  document.body.append(share.root);
  listsSlot.replaceChildren(bar.root);
  await bar.load(current);
  // A list no longer there (left, deleted) falls back to the Inbox.
  current = bar.current;
  openList();
  await route();
}

/**
 * A fresh task list for the list shown, bound to it: a load or an add still on its way for
 * the list shown before lands in that one's (detached) view, never in this one.
 */
function openList() {
  todos?.stop();
  const id = shownList();
  todos = new TodoList(new TaskStore(api, () => id), report, attachDropped);
}

/**
 * Shows list `id` (its tasks, under its heading).
 * @param {string} id
 */
async function showList(id) {
  current = id;
  sessionStorage.setItem('todo.list', id);
  openList();
  if (location.hash.startsWith('#/tasks/') || location.hash.startsWith('#/lists/') || location.hash === '#/settings') {
    location.hash = '#/';
    return; // the hash change routes
  }
  await route();
}

/** After leaving or deleting the list shown: back to the Inbox. */
async function leaveShown() {
  current = inbox();
  await bar?.load(current);
  await showList(current);
}

/** @param {import('./lists.js').List} list */
async function deleteList(list) {
  if (!window.confirm(`Delete “${list.name}” and its tasks and files, for everyone in it?`)) return;
  try {
    await lists.remove(list.id);
    say(`“${list.name}” is deleted.`);
    await leaveShown();
  } catch (error) {
    report(error);
  }
}

/** Shows what the address names. */
async function route() {
  if (!todos) return;
  const hash = location.hash;
  // A task of the list shown (`#/tasks/<id>`), or of any list (`#/lists/<list>/tasks/<id>`, as
  // notifications link to it).
  const inList = /^#\/lists\/([^/]+)\/tasks\/([^/]+)$/.exec(hash);
  if (inList || hash.startsWith('#/tasks/')) {
    const [listId, taskId] = inList
      ? [decodeURIComponent(inList[1]), decodeURIComponent(inList[2])]
      : [shownList(), decodeURIComponent(hash.slice('#/tasks/'.length))];
    const detail = new TaskDetail(new TaskStore(api, () => listId), new FileStore(api, () => listId), taskId, report, say);
    main.replaceChildren(detail.root);
    await detail.start();
    detail.root.querySelector('input')?.focus();
  } else if (hash === '#/settings') {
    main.replaceChildren(
      settingsScreen(async (password) => {
        await api.deleteAccount(password);
        say('Your account is deleted.');
        showSignedOut('log-in');
      }),
    );
    main.querySelector('input')?.focus();
  } else {
    const list = todos;
    if (!main.contains(list.root)) {
      const shown = bar?.shown();
      const heading = shown && bar ? listHeading(shown, () => share?.open(shown), () => deleteList(shown), bar) : '';
      main.replaceChildren(heading, list.root);
      if (!started.has(list)) {
        started.add(list);
        await list.start();
      } else await list.reload();
    }
  }
}

window.addEventListener('hashchange', () => route());

find(document, '#sign-out', HTMLButtonElement).addEventListener('click', async () => {
  await api.logOut();
  say('You are logged out.');
  showSignedOut('log-in');
});

if (session.get()) showSignedIn();
else showSignedOut('log-in');
