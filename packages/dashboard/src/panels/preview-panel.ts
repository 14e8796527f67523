import { card, h } from '../view-kit/dom';
import { decodePreview, previewPlaceholder } from '../view-kit/preview';
import type { PreviewRecord } from '@gradsync/metrics';

/** The preview images on pixelated canvases with true and predicted labels. */
export class PreviewPanel {
  readonly root: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly placeholder: HTMLElement;

  constructor() {
    const c = card('Validation samples');
    this.caption = h('span', { class: 'muted' });
    c.aside.append(this.caption);
    this.grid = h('div', { class: 'preview-grid', testId: 'preview-grid', attrs: { 'data-count': '0' } });
    this.placeholder = h('p', { class: 'empty', testId: 'preview-placeholder', text: previewPlaceholder(undefined) });
    c.body.append(this.placeholder, this.grid);
    this.root = c.root;
  }

  update(preview: PreviewRecord | null, classNames: string[], validationCount: number | undefined): void {
    if (!preview) {
      this.placeholder.textContent = previewPlaceholder(validationCount);
      return;
    }
    let images;
    try {
      images = decodePreview(preview.pixelsBase64, preview.labels, preview.predictions, preview.confidences, preview.shape);
    } catch {
      this.caption.textContent = 'could not decode the preview images';
      return;
    }
    this.placeholder.hidden = true;
    const name = (i: number) => classNames[i] ?? `class ${i}`;
    const right = images.filter((i) => i.correct).length;
    this.caption.textContent = `epoch ${preview.epoch + 1} · ${right} / ${images.length} right`;
    this.grid.dataset.count = String(images.length);
    this.grid.replaceChildren(
      ...images.map((img) => {
        const canvas = h('canvas', { attrs: { width: String(img.width), height: String(img.height) } });
        canvas.getContext('2d')?.putImageData(new ImageData(img.rgba, img.width, img.height), 0, 0);
        const conf = Number.isFinite(img.confidence) ? ` ${(img.confidence * 100).toFixed(0)}%` : '';
        return h(
          'figure',
          { class: `sample ${img.correct ? 'right' : 'wrong'}`, attrs: { 'data-correct': String(img.correct) } },
          canvas,
          h(
            'figcaption',
            {},
            h('span', { class: 'truth', text: name(img.label) }),
            h('span', { class: 'pred', text: `${img.correct ? '✓' : '✗'} ${name(img.prediction)}${conf}` }),
          ),
        );
      }),
    );
  }
}
