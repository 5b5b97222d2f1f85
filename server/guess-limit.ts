// Wrong pairing codes, counted for the whole server (every guesser on loopback looks alike: a
// web page's sandboxed iframe sends Origin "null" just as Figma's does). After MAX_WRONG wrong
// codes within WINDOW_MS no code is checked at all, right or wrong, until the window has passed:
// checking a right one would let a guesser's lucky guess through. Connections already open stay open.

export const MAX_WRONG = 20;
export const WINDOW_MS = 60_000;

export class GuessLimit {
  private wrong: number[] = [];
  private lockedUntil = 0;

  constructor(
    private readonly max = MAX_WRONG,
    private readonly windowMs = WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until codes are checked again; 0 when they are. */
  lockedFor(): number {
    return Math.max(0, this.lockedUntil - this.now());
  }

  /** Records a wrong code; locks when it is one too many for the window. */
  recordWrong(): void {
    const t = this.now();
    this.wrong = this.wrong.filter((at) => t - at < this.windowMs);
    this.wrong.push(t);
    if (this.wrong.length >= this.max) {
      this.lockedUntil = t + this.windowMs;
      this.wrong = [];
    }
  }
}
