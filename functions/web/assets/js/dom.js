// @ts-check
/**
 * DOM building without an HTML parser: user text only ever becomes text nodes.
 */

/** @typedef {Node | string | null | undefined | false} Child */

/**
 * An element with `attributes` (`true` sets an empty attribute; `false`, `null` and
 * `undefined` leave it out) and `children` (strings become text nodes).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | boolean | null | undefined>} [attributes]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child);
  }
  return element;
}

/**
 * The element matching `selector` under `root`, which must exist.
 * @template {Element} E
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new () => E} type
 * @returns {E}
 */
export function find(root, selector, type) {
  const element = root.querySelector(selector);
  if (!(element instanceof type)) throw new Error(`missing ${selector}`);
  return element;
}

/**
 * Makes `element` take files dragged onto it: `className` marks it while files hover over it,
 * and `onFiles` gets what is dropped. Other drags (text, links) pass by.
 * @param {HTMLElement} element
 * @param {string} className
 * @param {(files: File[]) => void} onFiles
 */
export function acceptFileDrops(element, className, onFiles) {
  element.addEventListener('dragover', (event) => {
    if (!event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    element.classList.add(className);
  });
  element.addEventListener('dragleave', () => element.classList.remove(className));
  element.addEventListener('drop', (event) => {
    event.preventDefault();
    element.classList.remove(className);
    if (event.dataTransfer?.files.length) onFiles([...event.dataTransfer.files]);
  });
}
