/** One preview image as canvas ImageData pixels, with its labels. */
export interface PreviewImage {
  /** 32 × 32 × 4 RGBA bytes. */
  rgba: Uint8ClampedArray<ArrayBuffer>;
  label: number;
  prediction: number;
  confidence: number;
  correct: boolean;
}

export const PREVIEW_SIDE = 32;

/** What the samples panel says before it has images: a run without a validation split never will. */
export function previewPlaceholder(validationCount: number | undefined): string {
  if (validationCount === 0) {
    return 'This run holds out no validation images (--validation 0), so there are none to show; its test accuracy is in the confusion matrix.';
  }
  return 'Validation images with their predicted labels appear after the first evaluation.';
}

/** Decodes PreviewRecord pixels (base64 of count × 32 × 32 × 3 RGB bytes, HWC) into RGBA images. */
export function decodePreview(pixelsBase64: string, labels: readonly number[], predictions: readonly number[], confidences: readonly number[]): PreviewImage[] {
  const bin = atob(pixelsBase64);
  const pixels = PREVIEW_SIDE * PREVIEW_SIDE;
  const count = Math.min(labels.length, Math.floor(bin.length / (pixels * 3)));
  const out: PreviewImage[] = [];
  for (let k = 0; k < count; k++) {
    const rgba = new Uint8ClampedArray(pixels * 4);
    const base = k * pixels * 3;
    for (let p = 0; p < pixels; p++) {
      rgba[p * 4] = bin.charCodeAt(base + p * 3);
      rgba[p * 4 + 1] = bin.charCodeAt(base + p * 3 + 1);
      rgba[p * 4 + 2] = bin.charCodeAt(base + p * 3 + 2);
      rgba[p * 4 + 3] = 255;
    }
    const prediction = predictions[k] ?? -1;
    out.push({ rgba, label: labels[k], prediction, confidence: confidences[k] ?? Number.NaN, correct: prediction === labels[k] });
  }
  return out;
}
