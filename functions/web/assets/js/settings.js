// @ts-check
/**
 * Account settings: deleting the account, after typing the password.
 */

import { h } from './dom.js';
import { showErrors } from './auth.js';

/**
 * @param {(password: string) => Promise<void>} deleteAccount
 * @returns {HTMLElement}
 */
export function settingsScreen(deleteAccount) {
  const password = h('input', { id: 'delete-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'delete-password-error' });
  const form = h(
    'form',
    { class: 'auth', novalidate: true, 'aria-labelledby': 'settings-title' },
    h('h2', { id: 'settings-title' }, 'Settings'),
    h('h3', {}, 'Delete the account'),
    h('p', {}, 'Deletes your tasks, files and notifications for good. Type your password to confirm.'),
    h('div', { class: 'field' }, h('label', { for: 'delete-password' }, 'Password'), password, h('p', { id: 'delete-password-error', class: 'field-error' })),
    h('p', { class: 'form-error', role: 'alert' }),
    h('p', {}, h('button', { type: 'submit', class: 'danger' }, 'Delete account'), ' ', h('a', { href: '#/' }, 'Back to the list')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const element of form.querySelectorAll('.field-error, .form-error')) element.textContent = '';
    try {
      await deleteAccount(password.value);
    } catch (error) {
      showErrors(form, error);
    }
  });
  return form;
}
