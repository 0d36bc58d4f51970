import { stringify } from 'yaml';
import type { CredentialEnv } from './policy.js';

/**
 * Kubernetes objects for k6-operator (TestRun `k6.io/v1alpha1`): `kubectl apply -f DIR` runs
 * the script on `parallelism` pods, each taking its execution segment of every scenario, so N
 * pods together send the planned load. Each pod writes its points and summary to a shared
 * volume, named after the pod, from which `kubectl cp` collects them for `gatecheck import k6`.
 */
export interface ManifestOptions {
  /** Base name of every object (DNS-1123), e.g. `gatecheck-demo`. */
  name: string;
  namespace?: string;
  parallelism: number;
  /** Put each runner pod on its own node (TestRun `separate`). */
  separate: boolean;
  /** Secret holding one key per credential environment variable. */
  secretName: string;
  /** Environment variables the script reads from the Secret: credentials and `${NAME}` in policy headers. */
  credentials: Array<Pick<CredentialEnv, 'envVar'>>;
  target?: string;
  /** Said beside GATECHECK_TARGET in testrun.yaml (a loopback target: the pods cannot reach it). */
  targetNote?: string;
  image?: string;
  storageClass?: string;
  storageSize: string;
  scriptFile: string;
  script: string;
}

export const RESULTS_DIR = '/results';

export interface Manifests {
  'configmap.yaml': string;
  'results-pvc.yaml': string;
  'results-reader.yaml': string;
  'testrun.yaml': string;
}

const LABELS = { 'app.kubernetes.io/managed-by': 'gatecheck' };

export function renderManifests(o: ManifestOptions): Manifests {
  const meta = (name: string) => ({ name, ...(o.namespace ? { namespace: o.namespace } : {}), labels: LABELS });
  const claim = `${o.name}-results`;
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${o.name}-script`), data: { [o.scriptFile]: o.script } };
  const pvc = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: meta(claim),
    spec: {
      // Every runner pod writes to it at once, possibly from different nodes.
      accessModes: ['ReadWriteMany'],
      ...(o.storageClass ? { storageClassName: o.storageClass } : {}),
      resources: { requests: { storage: o.storageSize } },
    },
  };
  const reader = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta(`${o.name}-reader`),
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'reader',
          image: 'busybox:1.36',
          command: ['sleep', '86400'],
          volumeMounts: [{ name: 'results', mountPath: RESULTS_DIR, readOnly: true }],
        },
      ],
      volumes: [{ name: 'results', persistentVolumeClaim: { claimName: claim, readOnly: true } }],
    },
  };
  // Kubernetes expands $(POD_NAME) in env values that follow it, so each pod writes its own
  // files. The JSON output is set with K6_OUT (k6's environment form of --out) rather than
  // `arguments`, which the operator's initializer would also see without the runner's env.
  const testRun = {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: meta(o.name),
    spec: {
      parallelism: o.parallelism,
      ...(o.separate ? { separate: true } : {}),
      script: { configMap: { name: `${o.name}-script`, file: o.scriptFile } },
      runner: {
        ...(o.image ? { image: o.image } : {}),
        env: [
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'K6_OUT', value: `json=${RESULTS_DIR}/$(POD_NAME).ndjson.gz` },
          { name: 'GATECHECK_SUMMARY_FILE', value: `${RESULTS_DIR}/$(POD_NAME).summary.json` },
          ...(o.target ? [{ name: 'GATECHECK_TARGET', value: o.target }] : []),
          ...o.credentials.map((c) => ({ name: c.envVar, valueFrom: { secretKeyRef: { name: o.secretName, key: c.envVar } } })),
        ],
        volumes: [{ name: 'results', persistentVolumeClaim: { claimName: claim } }],
        volumeMounts: [{ name: 'results', mountPath: RESULTS_DIR }],
      },
    },
  };
  const doc = (header: string, value: unknown) => `# ${header}\n${stringify(value, { lineWidth: 0 })}`;
  const testRunText = doc(`Runs the script on ${o.parallelism} pod(s). Create the Secret ${o.secretName} first (see README.md).`, testRun);
  return {
    'configmap.yaml': doc('The k6 script, mounted by k6-operator at /test.', configMap),
    'results-pvc.yaml': doc(
      `Shared volume for the runners' points and summaries. Needs a storage class with ReadWriteMany (or --parallelism 1).`,
      pvc,
    ),
    'results-reader.yaml': doc(
      `A pod to copy results out: kubectl cp ${o.namespace ? `${o.namespace}/` : ''}${o.name}-reader:${RESULTS_DIR} ./k6-results`,
      reader,
    ),
    'testrun.yaml': o.targetNote ? withTargetComment(testRunText, o.targetNote) : testRunText,
  };
}

/** `# NOTE` on the line above GATECHECK_TARGET's entry, indented like it (YAML comments keep the file valid). */
function withTargetComment(yaml: string, note: string): string {
  return yaml.replace(/^( *)- name: GATECHECK_TARGET$/m, (line, indent: string) => `${indent}# WARNING: ${note}\n${line}`);
}
