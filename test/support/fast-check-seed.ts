// Property tests explore new cases on a developer's machine, but CI runs the same cases every time so that a
// landing never depends on the draw: CI (CI=true) uses a fixed seed, FC_SEED replays any run fast-check reports.
import fc from 'fast-check';

const seed = process.env.FC_SEED ?? (process.env.CI ? '20261201' : undefined);
if (seed !== undefined) fc.configureGlobal({ seed: Number(seed) });
