#!/usr/bin/env node
// cdk8s-pki: thin commands over the engine and the state. Synthesis itself is `cdk8s synth`.
import { Command } from 'commander';
import { getBorderCharacters, table } from 'table';
import { exportNode, nodeJoinCommand } from './kubeadm/node-bundle';
import { exportSecrets } from './secrets/secret-plan';
import { ageKeysFromEnvironment, frozenFromEnvironment, stateDirectoryFromEnvironment, stateStoreFromEnvironment, warnIfPlaintextStateTracked } from './state/environment';
import { SpecError } from './engine/errors';
import { parseRecipient } from './state/age';
import { reencryptState } from './state/store';
import { PkiState } from './state/pki-state';
import { reportErrors } from './report';

const DAY_MS = 86_400_000;

const out = (text: string): void => {
  process.stdout.write(text);
};

export function buildCli(): Command {
  const program = new Command('cdk8s-pki')
    .description('Inspect and steer the PKI state that `cdk8s synth` keeps for a cdk8s-pki app.')
    .option('--state <dir>', 'state directory (default: $CDK8S_PKI_STATE_DIR or .pki)')
    .showHelpAfterError();
  const state = () => {
    const store = stateStoreFromEnvironment(program.opts().state);
    warnIfPlaintextStateTracked(store);
    return new PkiState({ store, frozen: frozenFromEnvironment() });
  };

  program
    .command('list')
    .description('list every certificate in the state with its expiry (like kubeadm certs check-expiration), then the bootstrap tokens')
    .action(() => {
      const now = Date.now();
      const current = state();
      const rows = current
        .inventory()
        .map((e) => [
          e.slot,
          e.commonName,
          e.isCA ? 'yes' : '',
          e.issuer,
          `${e.keyAlgorithm} #${e.keyGeneration}`,
          e.notAfter.toISOString().replace(/\.000Z$/, 'Z'),
          `${Math.floor((e.notAfter.getTime() - now) / DAY_MS)}d`,
          e.pendingRequest ?? '',
        ]);
      if (rows.length === 0) {
        out('the state holds no certificates yet; run `cdk8s synth`\n');
        return;
      }
      out(
        table([['SLOT', 'COMMON NAME', 'CA', 'ISSUER', 'KEY', 'NOT AFTER', 'LEFT', 'REQUESTED'], ...rows], {
          border: getBorderCharacters('void'),
          columnDefault: { paddingLeft: 0, paddingRight: 3 },
          drawHorizontalLine: () => false,
        }),
      );
      for (const key of current.keyInventory()) {
        out(`key ${key.slot}: ${key.keyAlgorithm} #${key.keyGeneration}, made ${key.createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}${key.rotationRequested ? ', key rotation requested' : ''}\n`);
      }
      for (const secret of current.secretInventory()) {
        const made = secret.createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
        out(`token ${secret.slot}: generation ${secret.generation}, made ${made}${secret.rotationRequested ? ', rotation requested' : ''}\n`);
      }
    });

  program
    .command('rotate <slot>')
    .description('re-issue a certificate at the next synth (with --new-key, also give it a new key; the old key file is kept), or make a new bootstrap token')
    .option('--new-key', 'generate a new key (required to replace a CA)')
    .action((slot: string, options: { newKey?: boolean }) => {
      const requested = state().requestRotation(slot, { newKey: options.newKey === true });
      out(`${slot}: ${requested} requested; run \`cdk8s synth\` to carry it out\n`);
    });

  program
    .command('export-node <node>')
    .description("write a node's /etc/kubernetes tree (pki/, kubeconfigs, manifests/, kubelet config) from the state, with kubeadm's file modes")
    .requiredOption('--out <dir>', 'where to write it; must not exist or be empty (nothing is written unless all of it can be)')
    .action((node: string, options: { out: string }) => {
      const files = exportNode(state(), node, options.out);
      out(`${node}: wrote ${files.length} files to ${options.out}\n`);
    });

  program
    .command('export-secrets')
    .description('write the Secrets that synth left out of the manifests (secret output "omit") as YAML from the state, for `kubectl apply -f DIR`; files 0600')
    .option('--namespace <namespace>', 'only the Secrets of this namespace')
    .requiredOption('--out <dir>', 'where to write them (created 0700)')
    .action((options: { namespace?: string; out: string }) => {
      const files = exportSecrets(state(), options.out, options.namespace);
      out(`wrote ${files.length} Secret${files.length === 1 ? '' : 's'} to ${options.out}: ${files.join(', ')}\n`);
    });

  program
    .command('reencrypt')
    .description('re-encrypt every state file to a new set of age recipients (identities to read it from CDK8S_PKI_AGE_IDENTITY[_FILE]); all files are read before any is written')
    .requiredOption('--to <recipient...>', 'the new recipients (age1…)')
    .option('--encrypt-plaintext', 'also encrypt files that are not encrypted yet (moving a plaintext state to age)')
    .action((options: { to: string[]; encryptPlaintext?: boolean }) => {
      const directory = program.opts().state ?? stateDirectoryFromEnvironment();
      const identities = ageKeysFromEnvironment()?.identities ?? [];
      options.to.forEach((recipient, i) => {
        try {
          parseRecipient(recipient);
        } catch (err) {
          throw new SpecError(`--to[${i}]`, (err as Error).message);
        }
      });
      const names = reencryptState(directory, identities, options.to, { encryptPlaintext: options.encryptPlaintext === true });
      out(`re-encrypted ${names.length} files in ${directory} to ${options.to.length} recipient${options.to.length === 1 ? '' : 's'}\n`);
    });

  program
    .command('join-command <node>')
    .description('print the kubeadm join line for a node (endpoint, bootstrap token, --discovery-token-ca-cert-hash), as `kubeadm token create --print-join-command` does')
    .action((node: string) => {
      out(`${nodeJoinCommand(state(), node)}\n`);
    });

  return program;
}

if (require.main === module) {
  reportErrors(() => buildCli().parse(process.argv));
}
