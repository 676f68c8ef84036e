/**
 * The progress bar of a long synth (hundreds of nodes, RSA-4096 keys): drawn with cli-progress on stderr, only
 * on a terminal, never under CI or `cdk8s-pki plan`, and only once the work has lasted about a second, so that
 * an ordinary synth prints nothing. The state counts its slow steps (a certificate issued, a bare key drawn).
 */
// cli-progress and the state's environment are required where they are used: every command loads this module
// (through the error report), few draw a bar.
import type { SingleBar } from 'cli-progress';

/** Told of the work a synth expects and of each slow step done; stopped before anything else is printed. */
export interface Progress {
  /** `units` more steps are expected (ControlPlanePki knows its certificates and kubeconfigs ahead). */
  expect(units: number): void;
  step(): void;
  /** Clears the bar; later steps draw nothing. */
  stop(): void;
}

/** Shows nothing: the default, and what tests and non-terminals get. */
export const NO_PROGRESS: Progress = { expect: () => undefined, step: () => undefined, stop: () => undefined };

/** A synth shorter than this shows no bar at all. */
const SHOW_AFTER_MS = 1000;

type Environment = Readonly<Record<string, string | undefined>>;

/** A bar only for a person at a terminal: stderr is a TTY, `CI` is unset (or false), and no plan is being made. */
export function progressWanted(stream: { isTTY?: boolean }, env: Environment): boolean {
  const ci = (env.CI ?? '').trim().toLowerCase();
  const { ENV_PLAN_FILE } = require('./state/environment') as typeof import('./state/environment');
  return stream.isTTY === true && ['', '0', 'false'].includes(ci) && !env[ENV_PLAN_FILE];
}

/** The bar of the synth being run, so that an error report can clear it first. */
let active: Progress | undefined;

/** The progress of a synth started now: a terminal bar when `progressWanted`, else NO_PROGRESS. */
export function progressFromEnvironment(stream: NodeJS.WriteStream = process.stderr, env: Environment = process.env): Progress {
  if (!progressWanted(stream, env)) return NO_PROGRESS;
  active = new TerminalProgress(stream, Date.now());
  return active;
}

/** Clears the bar of the running synth, if any: before an error or a summary is written. */
export function stopProgress(): void {
  active?.stop();
}

class TerminalProgress implements Progress {
  private expected = 0;
  private done = 0;
  private stopped = false;
  private bar?: SingleBar;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly startedAt: number,
  ) {}

  expect(units: number): void {
    this.expected += units;
    this.bar?.setTotal(this.total);
  }

  step(): void {
    this.done += 1;
    if (this.stopped) return;
    if (!this.bar) {
      if (Date.now() - this.startedAt < SHOW_AFTER_MS) return;
      const { Presets, SingleBar } = require('cli-progress') as typeof import('cli-progress');
      this.bar = new SingleBar({ stream: this.stream, format: 'cdk8s-pki {bar} {value}/{total} certificates and keys', clearOnComplete: true, barsize: 30 }, Presets.shades_classic);
      this.bar.start(this.total, this.done);
      return;
    }
    // Steps no construct announced (a TlsCertificate beside ControlPlanePki) grow the total.
    if (this.done > this.bar.getTotal()) this.bar.setTotal(this.done);
    this.bar.update(this.done);
  }

  stop(): void {
    this.stopped = true;
    this.bar?.stop();
    this.bar = undefined;
  }

  private get total(): number {
    return Math.max(this.expected, this.done);
  }
}
