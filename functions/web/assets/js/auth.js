// @ts-check
/**
 * The sign-up and log-in screens.
 */

import { h } from './dom.js';
import { ApiError } from './api.js';

/**
 * @typedef {'log-in' | 'sign-up'} Mode
 * @typedef {{ email: string, password: string, name: string }} Credentials
 */

/**
 * A labelled input with a place for its error.
 * @param {string} id
 * @param {string} label
 * @param {Record<string, string | boolean>} attributes
 */
function field(id, label, attributes) {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name: id.replace('auth-', ''), 'aria-describedby': `${id}-error`, ...attributes }),
    h('p', { id: `${id}-error`, class: 'field-error' }),
  );
}

/**
 * The form for `mode`; `submit` signs in or throws (its `ApiError`s are shown by field).
 * @param {Mode} mode
 * @param {(credentials: Credentials) => Promise<void>} submit
 * @param {(mode: Mode) => void} switchTo
 * @returns {HTMLElement}
 */
export function authScreen(mode, submit, switchTo) {
  const signUp = mode === 'sign-up';
  const form = h(
    'form',
    { class: 'auth', novalidate: true, 'aria-labelledby': 'auth-title' },
    h('h2', { id: 'auth-title' }, signUp ? 'Create your account' : 'Log in'),
    signUp && field('auth-name', 'Name', { type: 'text', autocomplete: 'name', maxlength: '100' }),
    field('auth-email', 'Email', { type: 'email', autocomplete: 'email', required: true }),
    field('auth-password', 'Password', { type: 'password', autocomplete: signUp ? 'new-password' : 'current-password', required: true }),
    h('p', { class: 'form-error', role: 'alert' }),
    h('p', {}, h('button', { type: 'submit', class: 'primary' }, signUp ? 'Sign up' : 'Log in')),
    h('p', {}, h('button', { type: 'button', class: 'link-button switch' }, signUp ? 'I already have an account' : 'Create an account')),
  );
  const value = (/** @type {string} */ name) => {
    const input = form.elements.namedItem(name);
    return input instanceof HTMLInputElement ? input.value : '';
  };
  form.querySelector('.switch')?.addEventListener('click', () => switchTo(signUp ? 'log-in' : 'sign-up'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const button = form.querySelector('button[type=submit]');
    if (button instanceof HTMLButtonElement) button.disabled = true;
    try {
      await submit({ email: value('email').trim(), password: value('password'), name: value('name').trim() });
    } catch (error) {
      showErrors(form, error);
    } finally {
      if (button instanceof HTMLButtonElement) button.disabled = false;
    }
  });
  return form;
}

/** @param {HTMLFormElement} form */
function clearErrors(form) {
  for (const element of form.querySelectorAll('.field-error, .form-error')) element.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/**
 * Each field's error next to it, the rest (and the problem's detail) above the button.
 * @param {HTMLFormElement} form
 * @param {unknown} error
 */
export function showErrors(form, error) {
  const general = form.querySelector('.form-error');
  const messages = [];
  if (error instanceof ApiError) {
    for (const { field: name, message } of error.fieldErrors) {
      const input = form.elements.namedItem(name);
      const slot = input instanceof HTMLElement ? form.querySelector(`#${input.id}-error`) : null;
      if (input instanceof HTMLElement && slot) {
        input.setAttribute('aria-invalid', 'true');
        slot.textContent = `${label(form, input)} ${message}`;
      } else {
        messages.push(`${name} ${message}`);
      }
    }
    if (error.fieldErrors.length === 0 || messages.length > 0) messages.unshift(error.message);
  } else {
    messages.push(error instanceof Error ? error.message : String(error));
  }
  if (general) general.textContent = messages.join(' ');
}

/**
 * @param {HTMLFormElement} form
 * @param {HTMLElement} input
 */
function label(form, input) {
  return form.querySelector(`label[for="${input.id}"]`)?.textContent ?? '';
}
