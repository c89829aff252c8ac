// @ts-check
/**
 * The bell: unread notifications counted (every minute and whenever the window regains
 * focus), and a panel listing the newest first, to mark read one by one or all at once.
 */

import { h, find } from './dom.js';
import { describe } from './dates.js';

/**
 * @typedef {import('./api.js').Api} Api
 * @typedef {{ id: string, kind: 'reminder' | 'overdue', list_id: string, task_id: string, task_title: string, at: string, created_at: string, read: boolean }} AlarmNotice
 * @typedef {{ id: string, kind: 'invited', invitation_id: string, list_id: string, list_name: string, role: 'editor' | 'viewer', invited_by_name: string | null, at: string, created_at: string, read: boolean }} InvitationNotice
 * @typedef {AlarmNotice | InvitationNotice} Notice
 */

/** What an invited role may do, in words. */
const ROLE_WORDS = { editor: 'can edit', viewer: 'can view' };

/** Unread notifications counted at most: the badge then says "50+". */
const COUNT_LIMIT = 50;
const POLL_MS = 60_000;

export class Bell {
  /**
   * @param {Api} api
   * @param {(error: unknown) => void} report
   * @param {() => void} showInvitations brings the invitations waiting to be answered into view
   */
  constructor(api, report, showInvitations) {
    this.api = api;
    this.report = report;
    this.showInvitations = showInvitations;
    this.badge = h('span', { class: 'badge', hidden: true });
    this.button = h(
      'button',
      { type: 'button', class: 'bell', 'aria-expanded': 'false', 'aria-controls': 'notifications-panel' },
      h('span', { class: 'bell-label' }, 'Notifications'),
      this.badge,
    );
    this.panel = h(
      'section',
      { id: 'notifications-panel', class: 'panel', 'aria-label': 'Notifications', hidden: true },
      h('div', { class: 'panel-head' }, h('h2', {}, 'Notifications'), h('button', { type: 'button', class: 'mark-all' }, 'Mark all read')),
      h('ul', { class: 'notice-list' }),
    );
    this.list = find(this.panel, '.notice-list', HTMLUListElement);
    this.button.addEventListener('click', () => this.toggle());
    find(this.panel, '.mark-all', HTMLButtonElement).addEventListener('click', () => this.markAll());
    this.onFocus = () => this.count();
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.timer = undefined;
    /** @type {Notice[]} */
    this.notices = [];
  }

  start() {
    window.addEventListener('focus', this.onFocus);
    this.timer = setInterval(() => this.count(), POLL_MS);
    return this.count();
  }

  stop() {
    window.removeEventListener('focus', this.onFocus);
    clearInterval(this.timer);
    this.panel.hidden = true;
  }

  async count() {
    try {
      const { body } = await this.api.request('GET', `/notifications?unread=true&limit=${COUNT_LIMIT}`);
      this.show(body.items.length, Boolean(body.next_cursor));
    } catch (error) {
      this.report(error);
    }
  }

  /**
   * @param {number} unread
   * @param {boolean} more
   */
  show(unread, more) {
    this.badge.hidden = unread === 0;
    this.badge.textContent = unread === 0 ? '' : `${unread}${more ? '+' : ''} unread`;
  }

  async toggle() {
    const open = this.panel.hidden;
    this.panel.hidden = !open;
    this.button.setAttribute('aria-expanded', String(open));
    if (open) await this.load();
  }

  async load() {
    try {
      const { body } = await this.api.request('GET', `/notifications?limit=${COUNT_LIMIT}`);
      this.notices = body.items;
      this.render();
    } catch (error) {
      this.report(error);
    }
  }

  render() {
    const unread = this.notices.filter((notice) => !notice.read).length;
    this.show(unread, false);
    if (this.notices.length === 0) {
      this.list.replaceChildren(h('li', {}, 'Nothing yet.'));
      return;
    }
    this.list.replaceChildren(
      ...this.notices.map((notice) => {
        const subject = notice.kind === 'invited' ? notice.list_name : notice.task_title;
        const mark = h('button', { type: 'button', class: 'link-button' }, `Mark read: ${subject}`);
        mark.addEventListener('click', () => this.markRead(notice));
        return h(
          'li',
          { 'data-testid': 'notification', class: notice.read ? 'read' : 'unread' },
          ...(notice.kind === 'invited' ? this.invitation(notice) : alarm(notice)),
          h('span', { class: 'notice-time' }, ` ${describe(notice.at)} `),
          notice.read ? null : mark,
        );
      }),
    );
  }

  /**
   * An invitation's notification: who invites to which list, and a way to answer it.
   * @param {InvitationNotice} notice
   */
  invitation(notice) {
    const answer = h('button', { type: 'button', class: 'link-button' }, `Answer the invitation to “${notice.list_name}”`);
    answer.addEventListener('click', () => {
      this.panel.hidden = true;
      this.button.setAttribute('aria-expanded', 'false');
      this.showInvitations();
    });
    const who = notice.invited_by_name ?? 'Someone';
    return [h('strong', {}, 'Invitation'), `: ${who} invites you to “${notice.list_name}” (${ROLE_WORDS[notice.role]}). `, answer];
  }

  /** @param {Notice} notice */
  async markRead(notice) {
    try {
      const { body } = await this.api.request('PATCH', `/notifications/${encodeURIComponent(notice.id)}`, { body: { read: true } });
      this.notices = this.notices.map((each) => (each.id === notice.id ? body : each));
      this.render();
    } catch (error) {
      this.report(error);
    }
  }

  async markAll() {
    for (const notice of this.notices.filter((each) => !each.read)) await this.markRead(notice);
    await this.count();
  }
}

/**
 * A task's alarm: its kind and a link to the task.
 * @param {AlarmNotice} notice
 */
function alarm(notice) {
  const href = `#/lists/${encodeURIComponent(notice.list_id)}/tasks/${encodeURIComponent(notice.task_id)}`;
  return [h('strong', {}, notice.kind === 'reminder' ? 'Reminder' : 'Overdue'), ': ', h('a', { href }, notice.task_title)];
}
