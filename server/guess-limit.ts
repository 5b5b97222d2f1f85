// Wrong pairing codes, counted for the whole server (every guesser on loopback looks alike: a
// web page's sandboxed iframe sends Origin "null" just as Figma's does). After MAX_WRONG wrong
// codes within WINDOW_MS the server is "under guessing" until the window has passed: wrong codes
// are then answered rate_limited, with a warning in the log. The right code is always accepted:
// refusing it would let any web page lock the user out, while the code's 60 random bits, not this
// limit, are what make guessing hopeless (docs/ARCHITECTURE.md, Security).

export const MAX_WRONG = 20;
export const WINDOW_MS = 60_000;

export class GuessLimit {
  private wrong: number[] = [];
  private limitedUntil = 0;

  constructor(
    private readonly max = MAX_WRONG,
    private readonly windowMs = WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds that wrong codes are still answered rate_limited; 0 when they are not. */
  limitedFor(): number {
    return Math.max(0, this.limitedUntil - this.now());
  }

  /** Records a wrong code; says "started" when it is one too many for the window (log it once). */
  recordWrong(): "started" | "limited" | "counted" {
    const t = this.now();
    if (this.limitedFor() > 0) {
      this.limitedUntil = t + this.windowMs; // a guesser that keeps going stays limited
      return "limited";
    }
    this.wrong = this.wrong.filter((at) => t - at < this.windowMs);
    this.wrong.push(t);
    if (this.wrong.length < this.max) return "counted";
    this.limitedUntil = t + this.windowMs;
    this.wrong = [];
    return "started";
  }
}
