/** An incremental sha256; `#sha256` resolves to Node's implementation, or a JS one in a browser bundle. */
export interface Sha256 {
  update(data: Uint8Array | string): Sha256;
  /** The digest as lowercase hex; the hash cannot be updated afterwards. */
  hex(): string;
}
