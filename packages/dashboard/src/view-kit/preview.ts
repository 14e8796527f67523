/** One preview image as canvas ImageData pixels, with its labels. */
export interface PreviewImage {
  /** width × height × 4 RGBA bytes. */
  rgba: Uint8ClampedArray<ArrayBuffer>;
  width: number;
  height: number;
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

/** Decodes PreviewRecord pixels (base64 of count images of `shape`, HWC; 32 × 32 RGB without one) into RGBA images. */
export function decodePreview(
  pixelsBase64: string,
  labels: readonly number[],
  predictions: readonly number[],
  confidences: readonly number[],
  shape: { height: number; width: number; channels: 1 | 3 } = { height: PREVIEW_SIDE, width: PREVIEW_SIDE, channels: 3 },
): PreviewImage[] {
  const bin = atob(pixelsBase64);
  const pixels = shape.height * shape.width;
  const channels = shape.channels;
  const count = Math.min(labels.length, Math.floor(bin.length / (pixels * channels)));
  const out: PreviewImage[] = [];
  for (let k = 0; k < count; k++) {
    const rgba = new Uint8ClampedArray(pixels * 4);
    const base = k * pixels * channels;
    for (let p = 0; p < pixels; p++) {
      // A greyscale image's one channel is drawn as R = G = B.
      for (let c = 0; c < 3; c++) rgba[p * 4 + c] = bin.charCodeAt(base + p * channels + (channels === 3 ? c : 0));
      rgba[p * 4 + 3] = 255;
    }
    const prediction = predictions[k] ?? -1;
    out.push({
      rgba,
      width: shape.width,
      height: shape.height,
      label: labels[k],
      prediction,
      confidence: confidences[k] ?? Number.NaN,
      correct: prediction === labels[k],
    });
  }
  return out;
}
