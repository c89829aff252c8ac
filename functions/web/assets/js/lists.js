// @ts-check
/**
 * Lists and sharing: the bar of the person's lists (own and shared) with a form for a new
 * one and the invitations waiting for them, and the share dialog of the list shown
 * (members, roles, invitations; leaving). The only module of these that calls the API.
 */

import { ApiError, SignedOut } from './api.js';
import { h } from './dom.js';

/**
 * @typedef {import('./api.js').Api} Api
 * @typedef {'owner' | 'editor' | 'viewer'} Role
 * @typedef {{ id: string, name: string, color: string | null, inbox: boolean, owner_id: string, role: Role, position: number | null }} List
 * @typedef {{ user_id: string, name: string | null, email: string, role: Role }} Member
 * @typedef {{ id: string, list_id: string, list_name: string, email: string, role: 'editor' | 'viewer', invited_by_name: string | null, expires_at: string }} Invitation
 */

/** The API's largest page. */
const PAGE = 100;

export class ListStore {
  /** @param {Api} api */
  constructor(api) {
    this.api = api;
  }

  /**
   * Every item of a paged collection.
   * @param {string} path
   */
  async #every(path) {
    /** @type {any[]} */
    const items = [];
    /** @type {string | null | undefined} */
    let cursor;
    do {
      const query = new URLSearchParams({ limit: String(PAGE) });
      if (cursor) query.set('cursor', cursor);
      const { body } = await this.api.request('GET', `${path}?${query}`);
      items.push(...body.items);
      cursor = body.next_cursor;
    } while (cursor);
    return items;
  }

  /** @returns {Promise<List[]>} */
  all() {
    return this.#every('/lists');
  }

  /**
   * @param {string} name
   * @returns {Promise<List>}
   */
  async create(name) {
    return (await this.api.request('POST', '/lists', { body: { name } })).body;
  }

  /**
   * Sets the person's own place for a list (not shared with its other members).
   * @param {string} id
   * @param {number} position
   */
  async place(id, position) {
    await this.api.request('PATCH', `/lists/${encodeURIComponent(id)}`, { body: { position } });
  }

  /** @param {string} id */
  async remove(id) {
    await this.api.request('DELETE', `/lists/${encodeURIComponent(id)}`);
  }

  /**
   * @param {string} id
   * @returns {Promise<Member[]>}
   */
  members(id) {
    return this.#every(`/lists/${encodeURIComponent(id)}/members`);
  }

  /**
   * @param {string} id
   * @param {string} user
   */
  async removeMember(id, user) {
    await this.api.request('DELETE', `/lists/${encodeURIComponent(id)}/members/${encodeURIComponent(user)}`);
  }

  /**
   * @param {string} id
   * @returns {Promise<Invitation[]>}
   */
  async invitations(id) {
    return (await this.api.request('GET', `/lists/${encodeURIComponent(id)}/invitations`)).body.items;
  }

  /**
   * @param {string} id
   * @param {string} email
   * @param {'editor' | 'viewer'} role
   */
  async invite(id, email, role) {
    await this.api.request('POST', `/lists/${encodeURIComponent(id)}/invitations`, { body: { email, role } });
  }

  /**
   * @param {string} id
   * @param {string} invitation
   */
  async revoke(id, invitation) {
    await this.api.request('DELETE', `/lists/${encodeURIComponent(id)}/invitations/${encodeURIComponent(invitation)}`);
  }

  /** @returns {Promise<Invitation[]>} */
  received() {
    return this.#every('/invitations');
  }

  /**
   * @param {string} invitation
   * @returns {Promise<List>}
   */
  async accept(invitation) {
    return (await this.api.request('POST', `/invitations/${encodeURIComponent(invitation)}/accept`)).body;
  }

  /** @param {string} invitation */
  async decline(invitation) {
    await this.api.request('POST', `/invitations/${encodeURIComponent(invitation)}/decline`);
  }
}

/** What a role may do, in words. */
const ROLE_WORDS = { owner: 'owner', editor: 'can edit', viewer: 'can view' };

/**
 * The person's lists, the one shown marked, a form for a new list and the invitations
 * waiting for them.
 */
export class ListsBar {
  /**
   * @param {ListStore} store
   * @param {(error: unknown) => void} report
   * @param {(list: List) => void} select shows a list
   */
  constructor(store, report, select) {
    this.store = store;
    this.report = report;
    this.select = select;
    /** @type {List[]} */
    this.lists = [];
    /** @type {string} */
    this.current = '';
    this.items = h('ul', { class: 'list-tabs' });
    this.invitations = h('section', { class: 'invitations', 'aria-label': 'Invitations', hidden: true });
    const name = h('input', { id: 'new-list-name', name: 'name', maxlength: '100', autocomplete: 'off', required: true });
    this.form = h(
      'form',
      { class: 'new-list' },
      h('label', { for: 'new-list-name' }, 'New list'),
      name,
      h('button', { type: 'submit' }, 'Add list'),
    );
    this.form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const list = await this.store.create(name.value.trim());
        name.value = '';
        await this.load(list.id);
        this.select(list);
      } catch (error) {
        this.report(error);
      }
    });
    this.root = h('nav', { class: 'lists', 'aria-label': 'Lists' }, this.items, this.form, this.invitations);
  }

  /**
   * Fetches the lists (and invitations) and marks `current` (the Inbox when absent).
   * @param {string} current
   */
  async load(current) {
    try {
      const [lists, invitations] = await Promise.all([this.store.all(), this.store.received()]);
      this.lists = lists;
      this.current = lists.some((list) => list.id === current) ? current : (lists.find((list) => list.inbox)?.id ?? '');
      this.render();
      this.renderInvitations(invitations);
    } catch (error) {
      this.report(error);
    }
  }

  /** Fetches the invitations again and moves the focus to them (or says there are none). */
  async showInvitations() {
    await this.load(this.current);
    this.invitations.setAttribute('tabindex', '-1');
    if (this.invitations.hidden) this.report(new Error('That invitation was answered, withdrawn or has expired.'));
    else this.invitations.focus();
  }

  /** The list shown, if loaded. */
  shown() {
    return this.lists.find((list) => list.id === this.current);
  }

  /**
   * Whether list `id` can move `by` places (−1 earlier, +1 later).
   * @param {string} id
   * @param {number} by
   */
  canMove(id, by) {
    const to = this.lists.findIndex((list) => list.id === id) + by;
    return this.lists.some((list) => list.id === id) && to >= 0 && to < this.lists.length;
  }

  /**
   * Moves list `id` one place (−1 earlier, +1 later): every list's place becomes its index
   * in the new order, and only the lists whose place changed are sent (all of them the first
   * time, two afterwards).
   * @param {string} id
   * @param {number} by
   */
  async move(id, by) {
    if (!this.canMove(id, by)) return;
    const order = [...this.lists];
    const from = order.findIndex((list) => list.id === id);
    [order[from], order[from + by]] = [order[from + by], order[from]];
    try {
      await Promise.all(order.map((list, index) => (list.position === index ? null : this.store.place(list.id, index))));
    } catch (error) {
      this.report(error);
    }
    await this.load(this.current);
  }

  render() {
    this.items.replaceChildren(
      ...this.lists.map((list) => {
        const button = h(
          'button',
          { type: 'button', class: 'list-tab', 'aria-current': list.id === this.current ? 'true' : false, 'data-color': list.color ?? false },
          list.name,
          list.role === 'owner' ? null : h('span', { class: 'list-role' }, ` (shared, ${ROLE_WORDS[list.role]})`),
        );
        button.addEventListener('click', () => {
          this.current = list.id;
          this.render();
          // The button pressed was redrawn: keep the focus on the list chosen.
          this.items.querySelector('[aria-current="true"]')?.closest('button')?.focus();
          this.select(list);
        });
        return h('li', {}, button);
      }),
    );
  }

  /** @param {Invitation[]} invitations */
  renderInvitations(invitations) {
    this.invitations.hidden = invitations.length === 0;
    this.invitations.replaceChildren(
      h('h2', {}, 'Invitations'),
      h(
        'ul',
        {},
        ...invitations.map((invitation) => {
          const accept = h('button', { type: 'button' }, `Join “${invitation.list_name}”`);
          const decline = h('button', { type: 'button', class: 'link-button' }, `Decline “${invitation.list_name}”`);
          accept.addEventListener('click', () => this.answer(invitation, true));
          decline.addEventListener('click', () => this.answer(invitation, false));
          const who = invitation.invited_by_name ?? 'Someone';
          return h(
            'li',
            { 'data-testid': 'invitation' },
            `${who} invites you to “${invitation.list_name}” (${ROLE_WORDS[invitation.role]}). `,
            accept,
            ' ',
            decline,
          );
        }),
      ),
    );
  }

  /**
   * @param {Invitation} invitation
   * @param {boolean} join
   */
  async answer(invitation, join) {
    try {
      if (join) {
        const list = await this.store.accept(invitation.id);
        await this.load(list.id);
        this.select(list);
      } else {
        await this.store.decline(invitation.id);
        await this.load(this.current);
      }
    } catch (error) {
      this.report(error);
    }
  }
}

/**
 * The share dialog of a list: its members; for the owner, roles, removals, invitations
 * (sent and pending) and revoking; for others, leaving.
 */
export class ShareDialog {
  /**
   * @param {ListStore} store
   * @param {(error: unknown) => void} report
   * @param {(message: string) => void} say
   * @param {string} me the signed-in user's id
   * @param {() => void} left called once the person has left the list
   */
  constructor(store, report, say, me, left) {
    this.store = store;
    this.say = say;
    /** Inside the dialog: the page's own status is inert behind it. */
    this.status = h('p', { class: 'dialog-status', role: 'status', 'aria-live': 'polite' });
    /** @param {unknown} error */
    this.report = (error) => {
      if (error instanceof SignedOut) {
        this.root.close();
        report(error);
        return;
      }
      const fields = error instanceof ApiError ? error.fieldErrors.map(({ field, message }) => `${field.replaceAll('_', ' ')}: ${message}.`) : [];
      this.status.textContent = [error instanceof Error ? error.message : String(error), ...fields].join(' ');
    };
    this.me = me;
    this.left = left;
    this.title = h('h2', { id: 'share-title' });
    this.members = h('ul', { class: 'members', 'aria-label': 'Members' });
    this.pending = h('ul', { class: 'pending', 'aria-label': 'Pending invitations' });
    const email = h('input', { id: 'invite-email', type: 'email', name: 'email', autocomplete: 'off', required: true });
    const role = h(
      'select',
      { id: 'invite-role', name: 'role' },
      h('option', { value: 'editor' }, 'Can edit'),
      h('option', { value: 'viewer' }, 'Can view'),
    );
    this.inviteForm = h(
      'form',
      { class: 'invite' },
      h('div', { class: 'field' }, h('label', { for: 'invite-email' }, 'Invite by email'), email),
      h('div', { class: 'field' }, h('label', { for: 'invite-role' }, 'Role'), role),
      h('button', { type: 'submit' }, 'Send invitation'),
    );
    this.inviteForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const list = this.list;
      if (!list) return;
      try {
        await this.store.invite(list.id, email.value.trim(), role.value === 'viewer' ? 'viewer' : 'editor');
        this.status.textContent = `Invitation sent to ${email.value.trim()}.`;
        email.value = '';
        await this.refresh();
      } catch (error) {
        this.report(error);
      }
    });
    this.leave = h('button', { type: 'button', class: 'danger' }, 'Leave this list');
    this.leave.addEventListener('click', async () => {
      const list = this.list;
      if (!list || !window.confirm(`Leave “${list.name}”? You will need a new invitation to come back.`)) return;
      try {
        await this.store.removeMember(list.id, this.me);
        this.root.close();
        this.say(`You left “${list.name}”.`);
        this.left();
      } catch (error) {
        this.report(error);
      }
    });
    this.close = h('button', { type: 'button' }, 'Close');
    this.close.addEventListener('click', () => this.root.close());
    this.email = email;
    this.pendingSection = h('section', { 'aria-labelledby': 'pending-title' }, h('h3', { id: 'pending-title' }, 'Pending invitations'), this.pending);
    this.root = h(
      'dialog',
      { class: 'share', 'aria-labelledby': 'share-title' },
      this.title,
      this.status,
      h('section', { 'aria-labelledby': 'members-title' }, h('h3', { id: 'members-title' }, 'Members'), this.members),
      this.inviteForm,
      this.pendingSection,
      h('div', { class: 'dialog-actions' }, this.leave, this.close),
    );
    /** @type {List | null} */
    this.list = null;
  }

  /**
   * Opens the dialog for `list`.
   * @param {List} list
   */
  async open(list) {
    this.list = list;
    this.title.textContent = `Share “${list.name}”`;
    const owner = list.role === 'owner';
    this.inviteForm.hidden = !owner;
    this.pendingSection.hidden = !owner;
    this.leave.hidden = owner;
    // Nothing of the list shown before, and no button that changes anything, has the focus.
    this.status.textContent = '';
    this.members.replaceChildren(h('li', {}, 'Loading…'));
    this.pending.replaceChildren();
    this.root.showModal();
    (owner ? this.email : this.close).focus();
    await this.refresh();
  }

  async refresh() {
    const list = this.list;
    if (!list) return;
    const owner = list.role === 'owner';
    try {
      const [members, pending] = await Promise.all([this.store.members(list.id), owner ? this.store.invitations(list.id) : []]);
      // Opened for another list meanwhile: this answer is no longer wanted.
      if (this.list !== list) return;
      this.members.replaceChildren(
        ...members.map((member) => {
          const label = `${member.name ?? member.email} (${member.email}), ${ROLE_WORDS[member.role]}`;
          const remove = h('button', { type: 'button', class: 'link-button' }, `Remove ${member.name ?? member.email}`);
          remove.addEventListener('click', async () => {
            try {
              await this.store.removeMember(list.id, member.user_id);
              await this.refresh();
            } catch (error) {
              this.report(error);
            }
          });
          return h('li', { 'data-testid': 'member' }, label, ' ', owner && member.role !== 'owner' ? remove : null);
        }),
      );
      this.pending.replaceChildren(
        ...pending.map((invitation) => {
          const revoke = h('button', { type: 'button', class: 'link-button' }, `Revoke ${invitation.email}`);
          revoke.addEventListener('click', async () => {
            try {
              await this.store.revoke(list.id, invitation.id);
              await this.refresh();
            } catch (error) {
              this.report(error);
            }
          });
          return h('li', { 'data-testid': 'pending-invitation' }, `${invitation.email}, ${ROLE_WORDS[invitation.role]} `, revoke);
        }),
      );
      if (pending.length === 0) this.pending.replaceChildren(h('li', {}, 'None.'));
    } catch (error) {
      this.report(error);
    }
  }
}

/**
 * The heading of the list shown, with its share and delete buttons and the buttons that move
 * it among the person's lists.
 * @param {List} list
 * @param {() => void} share
 * @param {() => void} remove
 * @param {ListsBar} bar
 */
export function listHeading(list, share, remove, bar) {
  const shareButton = h('button', { type: 'button' }, list.role === 'owner' ? 'Share…' : 'Members…');
  shareButton.addEventListener('click', share);
  const deleteButton = h('button', { type: 'button', class: 'danger', hidden: list.role !== 'owner' || list.inbox }, 'Delete list');
  deleteButton.addEventListener('click', remove);
  const earlier = h('button', { type: 'button', class: 'link-button' }, 'Move earlier');
  const later = h('button', { type: 'button', class: 'link-button' }, 'Move later');
  const order = h('span', { class: 'list-order', role: 'group', 'aria-label': `Place of “${list.name}” among your lists` }, earlier, later);
  const enable = () => {
    earlier.disabled = !bar.canMove(list.id, -1);
    later.disabled = !bar.canMove(list.id, 1);
    // A person with one list has nothing to order.
    order.hidden = earlier.disabled && later.disabled;
  };
  /**
   * @param {HTMLButtonElement} pressed
   * @param {HTMLButtonElement} other
   * @param {number} by
   */
  const move = async (pressed, other, by) => {
    await bar.move(list.id, by);
    enable();
    // At the end of the row the button pressed turns off: keep the focus on its partner.
    if (pressed.disabled) other.focus();
  };
  earlier.addEventListener('click', () => move(earlier, later, -1));
  later.addEventListener('click', () => move(later, earlier, 1));
  enable();
  return h('div', { class: 'list-heading' }, h('h2', {}, list.name), shareButton, deleteButton, order);
}

