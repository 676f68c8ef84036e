import { IConstruct } from 'constructs';
import { frozenFromEnvironment, stateStoreFromEnvironment, warnIfPlaintextStateTracked } from '../src/state/environment';
import { planFileFromEnvironment, planReport, synthSummary, writePlanFile } from '../src/plan/report';
import { PkiState } from '../src/state/pki-state';
import { progressFromEnvironment } from '../src/progress';
import { MemoryStore } from '../src/state/store';

const bound = new WeakMap<IConstruct, PkiState>();

function rootOf(scope: IConstruct): IConstruct {
  return scope.node.root;
}

/**
 * Makes `state` the PKI state of the app `scope` belongs to. Call it before adding PKI constructs, e.g.
 * `usePkiState(app, PkiState.inMemory({ clock: () => fixedDate, seed: 'snapshot' }))` in a snapshot test.
 *
 * The state is committed when the app synthesizes, and only when every construct of the app validates:
 * cdk8s validates the root first, so the root's validation runs every other construct's validations itself
 * and commits only when none reports an error (cdk8s then reports those errors as it visits them). A failed
 * commit is thrown rather than returned, so its message is not prefixed with the root's empty path.
 *
 * Under `cdk8s-pki plan` (`$CDK8S_PKI_PLAN_FILE` set) nothing is committed, whichever state is bound, and no
 * `onCommitted` hook runs: the plan report is written to that file instead, and PKI.md with the node review
 * files into the plan's output directory, so that the plan lists them when they would change. After a commit that changed a
 * state on disk, a short summary of it goes to stderr.
 */
export function usePkiState(scope: IConstruct, state: PkiState): PkiState {
  const root = rootOf(scope);
  const existing = bound.get(root);
  if (existing && existing !== state) throw new Error(`${root.node.path || 'app'}: a PKI state is already in use for this app`);
  if (!existing) {
    bound.set(root, state);
    state.startSynth();
    // Loaded here, not imported: the report reads every construct class, and each of those imports this module.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const report = require('./pki-report') as typeof import('./pki-report');
    report.registerPkiReport(root, state);
    root.node.addValidation({
      validate: () => {
        const others = root.node.findAll().filter((c) => c !== root);
        if (others.some((c) => c.node.validate().length > 0)) return [];
        const planFile = planFileFromEnvironment();
        if (planFile) {
          writePlanFile(planFile, planReport(state));
          report.writePkiOutputFiles(root);
          return [];
        }
        // In-memory states are tests' and have no node to re-export; a frozen commit writes nothing.
        const summary = state.frozen || state.store instanceof MemoryStore ? '' : synthSummary(planReport(state));
        state.commit();
        if (summary) process.stderr.write(summary);
        return [];
      },
    });
  }
  return state;
}

/**
 * The PKI state of the app `scope` belongs to. Unless `usePkiState` bound one, this is the PostgreSQL state
 * `$CDK8S_PKI_STATE` names (`postgres://…`), else the directory `$CDK8S_PKI_STATE_DIR` (default `.pki` in the
 * working directory); age-encrypted when `$CDK8S_PKI_AGE_*` name keys, read-only when `$CDK8S_PKI_FROZEN` is
 * `1` or `true`.
 */
export function pkiStateOf(scope: IConstruct): PkiState {
  const existing = bound.get(rootOf(scope));
  if (existing) return existing;
  const store = stateStoreFromEnvironment();
  warnIfPlaintextStateTracked(store);
  return usePkiState(scope, new PkiState({ store, frozen: frozenFromEnvironment(), progress: progressFromEnvironment() }));
}

/** A state slot from a construct path: each segment kept to the characters a file name can hold everywhere. */
export function slotOf(scope: IConstruct): string {
  return scope.node.scopes
    .map((s) => s.node.id)
    .filter((id) => id !== '')
    .map((id) => id.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]/, 'x'))
    .join('/');
}
