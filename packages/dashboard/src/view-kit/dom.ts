/** A small element builder: h('div', { class: 'card', testId: 'x' }, child, 'text'). */
export interface ElementProps {
  class?: string;
  text?: string;
  title?: string;
  testId?: string;
  attrs?: Record<string, string>;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: ElementProps = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.text !== undefined) el.textContent = props.text;
  if (props.title) el.title = props.title;
  if (props.testId) el.dataset.testid = props.testId;
  for (const [k, v] of Object.entries(props.attrs ?? {})) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

/** A titled card: the panel frame every section uses. */
export function card(title: string, testId?: string, extraClass = ''): { root: HTMLElement; body: HTMLElement; heading: HTMLElement; aside: HTMLElement } {
  const heading = h('h2', { text: title });
  const aside = h('div', { class: 'card-aside' });
  const body = h('div', { class: 'card-body' });
  const root = h('section', { class: `card ${extraClass}`.trim(), testId }, h('header', { class: 'card-head' }, heading, aside), body);
  return { root, body, heading, aside };
}

/** Sets textContent only when it changed (avoids layout work on unchanged cells). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}
