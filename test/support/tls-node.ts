// Where a component of an exported node reads its TLS files: the flag of its static Pod manifest (or the field of
// the kubelet's configuration), moved from /etc/kubernetes to the export. The rotation tests take their files this
// way, so that they test what the component would load, not a path they assume.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { KUBERNETES_DIR } from '../../src/kubeadm/layout';
import { flagValue } from './etcd-process';

/** `/etc/kubernetes/<x>` → `<exported>/<x>`; anything else is refused, since the export holds nothing else. */
function inExport(exported: string, file: string, from: string): string {
  if (!file.startsWith(`${KUBERNETES_DIR}/`)) throw new Error(`${from} is ${file}, outside ${KUBERNETES_DIR}`);
  return path.join(exported, file.slice(KUBERNETES_DIR.length + 1));
}

/** The file that `--<flag>` of the `component` container of manifests/<component>.yaml names, in the export `exported`. */
export function manifestFlagFile(exported: string, component: string, flag: string): string {
  const pod = parse(fs.readFileSync(path.join(exported, 'manifests', `${component}.yaml`), 'utf8')) as { spec: { containers: { name: string; command: string[] }[] } };
  const container = pod.spec.containers.find((c) => c.name === component);
  const value = container && flagValue(container.command, flag);
  if (value === undefined) throw new Error(`manifests/${component}.yaml has no --${flag}`);
  return inExport(exported, value, `--${flag}`);
}

/** The kubelet's client-CA file (authentication.x509.clientCAFile of kubelet/config.yaml), in the export `exported`. */
export function kubeletClientCaFile(exported: string): string {
  const config = parse(fs.readFileSync(path.join(exported, 'kubelet', 'config.yaml'), 'utf8')) as { authentication?: { x509?: { clientCAFile?: string } } };
  const file = config.authentication?.x509?.clientCAFile;
  if (file === undefined) throw new Error('kubelet/config.yaml has no authentication.x509.clientCAFile');
  return inExport(exported, file, 'clientCAFile');
}
