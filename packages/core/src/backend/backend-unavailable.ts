/** A backend that cannot run here; the message says why (one line). */
export class BackendUnavailable extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'BackendUnavailable';
  }
}
