/**
 * The manifests of deploy/k8s, parsed: kinds, labels and selectors, ports and probes, every container
 * flag and ARGUS_* variable an option of HUB_OPTIONS / AGENT_OPTIONS (and the whole set accepted by
 * parseOptions), mounted files present, Secrets referenced by key, RBAC limited to reading Applications.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_NODE_OPTIONS, AGENT_OPTIONS, WEBHOOK_PATH } from '@argus/agent';
import { isToken } from '@argus/bus';
import { buildRegistry, HUB_OPTIONS, INGEST_PATH, RejectedMessage, tagEvent } from '@argus/hub';
import { envName, flagName, type OptionsSpec, parseOptions, parseTokens } from '@argus/runtime';
import { describe, expect, test } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K8S = join(ROOT, 'deploy/k8s');

interface Metadata {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
}
interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: Metadata;
  readonly [field: string]: unknown;
}
interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly secretKeyRef?: { readonly name: string; readonly key: string } };
}
interface Probe {
  readonly httpGet?: { readonly path: string; readonly port: string | number };
}
interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly env?: EnvVar[];
  readonly ports?: { readonly name?: string; readonly containerPort: number }[];
  readonly livenessProbe?: Probe;
  readonly readinessProbe?: Probe;
  readonly startupProbe?: Probe;
  readonly resources?: {
    readonly requests?: Record<string, string>;
    readonly limits?: Record<string, string>;
  };
  readonly volumeMounts?: { readonly name: string; readonly mountPath: string }[];
}
interface Volume {
  readonly name: string;
  readonly configMap?: { readonly name: string };
  readonly secret?: { readonly secretName: string };
  readonly persistentVolumeClaim?: { readonly claimName: string };
  readonly emptyDir?: object;
}
interface PodSpec {
  readonly serviceAccountName?: string;
  readonly automountServiceAccountToken?: boolean;
  readonly containers: Container[];
  readonly volumes?: Volume[];
}
interface Deployment extends K8sObject {
  readonly spec: {
    readonly replicas?: number;
    readonly selector: { readonly matchLabels: Record<string, string> };
    readonly template: {
      readonly metadata: { readonly labels: Record<string, string> };
      readonly spec: PodSpec;
    };
  };
}
interface Service extends K8sObject {
  readonly spec: {
    readonly selector: Record<string, string>;
    readonly ports: { readonly name: string; readonly port: number; readonly targetPort: string | number }[];
  };
}
interface PolicyRule {
  readonly apiGroups?: string[];
  readonly resources?: string[];
  readonly verbs: string[];
  readonly resourceNames?: string[];
  readonly nonResourceURLs?: string[];
}
interface Binding extends K8sObject {
  readonly roleRef: { readonly kind: string; readonly name: string };
  readonly subjects: { readonly kind: string; readonly name: string; readonly namespace?: string }[];
}
interface Loaded {
  /** Directory under deploy/k8s, e.g. `hub`. */
  readonly dir: string;
  readonly file: string;
  readonly object: K8sObject;
}

const yamlFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });

/** Overlays (kustomize patches of the bases) are checked on their own, below: not whole objects. */
const FILES = yamlFiles(K8S)
  .map((path) => relative(K8S, path))
  .filter((file) => !file.startsWith('overlays/'));
const LOADED: Loaded[] = FILES.flatMap((file) =>
  parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return { dir: file.split('/')[0] ?? '', file, object: doc.toJS() as K8sObject };
  }),
);
const ofKind = <T extends K8sObject>(kind: string, dir?: string): (Loaded & { object: T })[] =>
  LOADED.filter((l) => l.object.kind === kind && (dir === undefined || l.dir === dir)) as (Loaded & {
    object: T;
  })[];
const isExample = (file: string) => file.endsWith('.example.yaml');

/** The example Secrets, by namespace/name: the keys a deployment may reference. */
const SECRETS = new Map(
  ofKind<K8sObject & { stringData?: Record<string, string> }>('Secret').map(({ object }) => [
    `${object.metadata.namespace}/${object.metadata.name}`,
    object.stringData ?? {},
  ]),
);

const PROGRAMS: Record<string, OptionsSpec> = { hub: HUB_OPTIONS, agent: AGENT_OPTIONS };

/** The kustomize Component naming the images (deploy/k8s/images), and what deploy/scripts/images.sh builds. */
const IMAGES_DIR = 'images';
/** Each program's image: the hub's holds chdb, the agent's does not (deploy/images/<program>.Containerfile). */
const IMAGE_OF: Record<string, string> = { hub: 'argus-hub', agent: 'argus-agent' };
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Where the images put the `argus` command (deploy/images/assemble.sh). */
const ARGUS_BIN = '/usr/local/bin/argus';

/**
 * A container's command split into the node flags it runs argus with (`node <flags> /usr/local/bin/argus
 * agent`: NODE_OPTIONS refuses V8 flags such as --optimize-for-size, node would exit at once) and argus's own.
 */
const commandOf = (container: Container) => {
  const command = container.command ?? [];
  if (command[0] !== 'node') return { nodeFlags: [], argus: command };
  const at = command.indexOf(ARGUS_BIN);
  expect(at, `${container.name}: node runs ${ARGUS_BIN}`).toBeGreaterThan(0);
  return { nodeFlags: command.slice(1, at), argus: ['argus', ...command.slice(at + 1)] };
};
const programOf = (container: Container) => commandOf(container).argus[1] ?? '';

/** A container's options as `argus` would read them: flags from args, env from env (Secret values as placeholders). */
const optionsOf = (container: Container, namespace: string, where = container.name) => {
  const [binary, program, ...rest] = commandOf(container).argus;
  expect(binary, `${where}: command`).toBe('argus');
  expect(rest).toEqual([]);
  const spec = PROGRAMS[program ?? ''];
  if (spec === undefined) throw new Error(`${where}: unknown program ${program}`);
  const byFlag = new Map(Object.keys(spec).map((key) => [flagName(key), key]));
  const byEnv = new Map(Object.keys(spec).map((key) => [envName(key), key]));
  const flags: Record<string, string | boolean> = {};
  const args = container.args ?? [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const key = byFlag.get(arg);
    expect(key, `${where}: ${arg} is an option of argus ${program}`).toBeDefined();
    if (key === undefined) continue;
    if (spec[key]?.kind === 'boolean') flags[key] = true;
    else {
      const value = args[++i];
      expect(value, `${where}: ${arg} has a value`).toBeDefined();
      expect(value?.startsWith('--'), `${where}: ${arg} is followed by its value`).toBe(false);
      flags[key] = value ?? '';
    }
  }
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    // Node's own settings are the runtime's, not options of argus; node refuses to start on most V8 flags there.
    if (variable.name === 'NODE_OPTIONS') {
      const run = spawnSync(process.execPath, ['-e', ''], {
        env: { ...process.env, NODE_OPTIONS: variable.value },
        encoding: 'utf8',
      });
      expect(run.stderr, `${where}: node starts with NODE_OPTIONS=${variable.value}`).toBe('');
      continue;
    }
    expect(byEnv.has(variable.name), `${where}: ${variable.name} is an ARGUS_* option variable`).toBe(true);
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref !== undefined) {
      const keys = SECRETS.get(`${namespace}/${ref.name}`);
      expect(keys, `Secret ${namespace}/${ref.name} in a secret.example.yaml`).toBeDefined();
      expect(Object.keys(keys ?? {}), `Secret ${ref.name}`).toContain(ref.key);
      env[variable.name] = keys?.[ref.key] ?? '';
    } else {
      expect(variable.value, `${variable.name} has a value or a secretKeyRef`).toBeDefined();
      env[variable.name] = variable.value ?? '';
    }
  }
  return { program, spec, flags, env, parsed: parseOptions(spec, { flags, env }) as Record<string, unknown> };
};

const CONTAINERS = ofKind<Deployment>('Deployment').flatMap(({ dir, object }) =>
  object.spec.template.spec.containers.map((container) => ({ dir, deployment: object, container })),
);

describe('deploy/k8s', () => {
  test('every file parses; each directory is a kustomization of all its manifests but the examples', () => {
    expect(LOADED.length).toBeGreaterThan(0);
    // images/ is the kustomize Component of the image names and tag, not an application.
    const dirs = [...new Set(FILES.map((f) => f.split('/')[0] ?? ''))].filter(
      (d) => !d.endsWith('.yaml') && d !== IMAGES_DIR,
    );
    expect(dirs.sort()).toEqual(['agent', 'agent-api', 'agent-webhook', 'hub']);
    for (const dir of dirs) {
      const kustomization = parse(readFileSync(join(K8S, dir, 'kustomization.yaml'), 'utf8')) as {
        namespace: string;
        resources: string[];
      };
      const manifests = FILES.filter(
        (f) => f.startsWith(`${dir}/`) && !f.endsWith('kustomization.yaml') && !isExample(f),
      ).map((f) => f.slice(dir.length + 1));
      expect(kustomization.resources.sort(), dir).toEqual(manifests.sort());
      // Examples for other places (the watched Argo CD's own ConfigMaps) keep their own namespace.
      const placed = LOADED.filter(
        (l) =>
          l.dir === dir && l.object.kind !== 'Namespace' && !l.file.endsWith('argocd-account.example.yaml'),
      );
      for (const { object } of placed) {
        if (object.kind === 'Kustomization' || object.kind === 'Component') continue;
        expect(object.metadata.namespace, `${dir}: ${object.kind} ${object.metadata.name}`).toBe(
          kustomization.namespace,
        );
      }
    }
  });

  test("the API agent's Argo CD account may read applications and clusters (else /api/v1/clusters is empty)", () => {
    const rbac = LOADED.find(
      (l) =>
        l.file === 'agent-api/argocd-account.example.yaml' && l.object.metadata.name === 'argocd-rbac-cm',
    );
    const policy = (
      (rbac?.object as { data?: Record<string, string> } | undefined)?.data?.['policy.csv'] ?? ''
    )
      .split('\n')
      .map((line) => line.split(',').map((part) => part.trim()));
    const role = policy.find((p) => p[0] === 'g' && p[1] === 'argus')?.[2];
    expect(role).toBe('role:argus-reader');
    const grants = policy
      .filter((p) => p[0] === 'p' && p[1] === role && p[5] === 'allow')
      .map((p) => `${p[2]}, ${p[3]}`);
    expect(grants.sort()).toEqual(['applications, get', 'clusters, get']);
    const cm = LOADED.find(
      (l) => l.file === 'agent-api/argocd-account.example.yaml' && l.object.metadata.name === 'argocd-cm',
    );
    expect((cm?.object as { data?: Record<string, string> } | undefined)?.data?.['accounts.argus']).toBe(
      'apiKey',
    );
  });

  test('every container runs the image of its program; names and tag come from the images Component only', () => {
    const component = parse(readFileSync(join(K8S, IMAGES_DIR, 'kustomization.yaml'), 'utf8')) as {
      kind: string;
      images: { name: string; newName?: string; newTag: string }[];
    };
    expect(component.kind).toBe('Component');
    // The tag is the version deploy/scripts/images.sh tags the images with.
    expect(component.images).toEqual(Object.values(IMAGE_OF).map((name) => ({ name, newTag: VERSION })));
    for (const program of Object.keys(IMAGE_OF))
      expect(
        readFileSync(join(ROOT, `deploy/images/${program}.Containerfile`), 'utf8'),
        `deploy/images/${program}.Containerfile`,
      ).toMatch(/^ENTRYPOINT \["argus"\]$/m);
    for (const { dir, deployment, container } of CONTAINERS) {
      expect(container.image, deployment.metadata.name).toBe(IMAGE_OF[programOf(container)]);
      const kustomization = parse(readFileSync(join(K8S, dir, 'kustomization.yaml'), 'utf8')) as {
        components?: string[];
        images?: unknown;
      };
      expect(kustomization.components, dir).toEqual([`../${IMAGES_DIR}`]);
      expect(kustomization.images, `${dir}: images only in ../${IMAGES_DIR}`).toBeUndefined();
    }
  });

  test('the hub has a PodDisruptionBudget that keeps one replica through a drain', () => {
    const [pdb] = ofKind<
      K8sObject & { spec: { maxUnavailable?: number; selector: { matchLabels: Record<string, string> } } }
    >('PodDisruptionBudget', 'hub');
    const [hub] = ofKind<Deployment>('Deployment', 'hub');
    expect(pdb?.object.spec.selector.matchLabels).toEqual(hub?.object.spec.selector.matchLabels);
    expect(pdb?.object.spec.maxUnavailable).toBe(1);
    expect(hub?.object.spec.replicas ?? 1).toBeGreaterThan(1);
  });

  test('the required kinds are present', () => {
    const kinds = (dir: string) =>
      [
        ...new Set(LOADED.filter((l) => l.dir === dir && !isExample(l.file)).map((l) => l.object.kind)),
      ].sort();
    expect(kinds('hub')).toEqual([
      'ConfigMap',
      'Deployment',
      'Kustomization',
      'Namespace',
      'PodDisruptionBudget',
      'Service',
    ]);
    expect(kinds('agent')).toEqual([
      'Deployment',
      'Kustomization',
      'PersistentVolumeClaim',
      'Role',
      'RoleBinding',
      'ServiceAccount',
    ]);
    expect(kinds('agent-api')).toEqual(['Deployment', 'Kustomization', 'PersistentVolumeClaim']);
    expect(kinds('agent-webhook')).toEqual(['Deployment', 'Kustomization', 'Service']);
  });

  test('selectors match the pod labels; Services target named container ports', () => {
    for (const { object } of ofKind<Deployment>('Deployment')) {
      const labels = object.spec.template.metadata.labels;
      expect(labels).toMatchObject(object.spec.selector.matchLabels);
      expect(object.metadata.labels ?? {}).toMatchObject(object.spec.selector.matchLabels);
    }
    for (const { dir, object: service } of ofKind<Service>('Service')) {
      const targets = ofKind<Deployment>('Deployment', dir).filter(
        ({ object }) =>
          object.metadata.namespace === service.metadata.namespace &&
          Object.entries(service.spec.selector).every(
            ([k, v]) => object.spec.template.metadata.labels[k] === v,
          ),
      );
      expect(targets, `Service ${service.metadata.name} selects one Deployment`).toHaveLength(1);
      const ports = targets[0]?.object.spec.template.spec.containers.flatMap((c) => c.ports ?? []) ?? [];
      for (const port of service.spec.ports) {
        const target = ports.find((p) => p.name === port.targetPort);
        expect(target, `${service.metadata.name}: targetPort ${port.targetPort}`).toBeDefined();
        expect(target?.containerPort).toBe(port.port);
      }
    }
  });

  test('every flag and ARGUS_* variable is a real option, and argus accepts the whole set', () => {
    expect(CONTAINERS.map((c) => `${c.dir}:${programOf(c.container)}`).sort()).toEqual([
      'agent-api:agent',
      'agent-webhook:agent',
      'agent:agent',
      'hub:hub',
    ]);
    for (const { deployment, container } of CONTAINERS) {
      const { parsed } = optionsOf(container, deployment.metadata.namespace ?? '', deployment.metadata.name);
      // Streams and KV buckets on the 3-node JetStream cluster of deploy/nats.
      expect(parsed.replicas, `${deployment.metadata.name}: --replicas`).toBe(3);
      expect(String(parsed.nats)).toMatch(/^nats:\/\//);
      expect(parsed.natsUser, `${deployment.metadata.name}: a NATS user of its own`).toBeDefined();
      expect(parsed.natsPassword).toBeDefined();
    }
  });

  test('containers listen on their ports, with /healthz and /readyz probes and resource requests', () => {
    for (const { deployment, container } of CONTAINERS) {
      const { program, parsed } = optionsOf(
        container,
        deployment.metadata.namespace ?? '',
        deployment.metadata.name,
      );
      const where = deployment.metadata.name;
      const listen = String(program === 'hub' ? parsed.httpListen : parsed.listen);
      expect(listen, `${where}: listens beyond loopback`).toMatch(/^0\.0\.0\.0:\d+$/);
      const http = container.ports?.find((p) => p.name === 'http');
      expect(http?.containerPort, `${where}: the http port is the listener's`).toBe(
        Number(listen.split(':')[1]),
      );
      expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
      if (container.startupProbe !== undefined)
        expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(Object.keys(container.resources?.requests ?? {}).sort(), where).toEqual(['cpu', 'memory']);
      expect(container.resources?.limits?.memory, where).toBeDefined();
      if (program === 'hub') {
        expect(http?.containerPort).toBe(8080);
        expect(parsed.grpcListen).toBe('0.0.0.0:50051');
        expect(container.ports?.find((p) => p.name === 'grpc')?.containerPort).toBe(50051);
        // A gRPC listener beyond loopback needs API tokens (the hub refuses to start otherwise).
        expect(parsed.apiTokensFile ?? parsed.apiTokens).toBeDefined();
        expect(parsed.clickhouseUrl).toMatch(/^https?:\/\//);
      }
    }
  });

  test('files given to options are mounted from volumes that hold them', () => {
    const configMaps = ofKind<K8sObject & { data: Record<string, string> }>('ConfigMap');
    for (const { dir, deployment, container } of CONTAINERS) {
      const { parsed } = optionsOf(container, deployment.metadata.namespace ?? '', deployment.metadata.name);
      const volumes = deployment.spec.template.spec.volumes ?? [];
      for (const key of ['registry', 'apiTokensFile', 'ingestTokensFile', 'spoolDir'] as const) {
        const path = parsed[key];
        // The webhook receiver keeps no spool: it answers 503 and Notifications retries.
        if (typeof path !== 'string' || (key === 'spoolDir' && parsed.source === 'webhook')) continue;
        const mount = container.volumeMounts?.find(
          (m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`),
        );
        expect(mount, `${deployment.metadata.name}: ${key} ${path} is on a volume`).toBeDefined();
        const volume = volumes.find((v) => v.name === mount?.name);
        expect(volume, `volume ${mount?.name}`).toBeDefined();
        const file = path.slice((mount?.mountPath.length ?? 0) + 1);
        if (volume?.configMap !== undefined) {
          const cm = configMaps.find(
            (c) => c.dir === dir && c.object.metadata.name === volume.configMap?.name,
          );
          expect(Object.keys(cm?.object.data ?? {}), `ConfigMap ${volume.configMap.name}`).toContain(file);
        }
        if (volume?.secret !== undefined) {
          const keys = SECRETS.get(`${deployment.metadata.namespace}/${volume.secret.secretName}`);
          expect(Object.keys(keys ?? {}), `Secret ${volume.secret.secretName}`).toContain(file);
        }
        if (volume?.persistentVolumeClaim !== undefined) {
          const claim = ofKind('PersistentVolumeClaim', dir).find(
            ({ object }) => object.metadata.name === volume.persistentVolumeClaim?.claimName,
          );
          expect(claim, `PVC ${volume.persistentVolumeClaim.claimName}`).toBeDefined();
        }
      }
    }
  });

  test('the hub registry and the example token files are what the hub accepts; every agent instance is registered', () => {
    const [cm] = ofKind<K8sObject & { data: Record<string, string> }>('ConfigMap', 'hub');
    const registry = buildRegistry(parse(cm?.object.data['registry.yaml'] ?? ''));
    const tokens = SECRETS.get('argus/argus-hub-tokens') ?? {};
    expect(parseTokens((tokens['api-tokens'] ?? '').split('\n'), 'API').size).toBeGreaterThan(0);
    expect(parseTokens((tokens['ingest-tokens'] ?? '').split('\n'), 'ingest').size).toBeGreaterThan(0);
    for (const { deployment, container } of CONTAINERS.filter((c) => programOf(c.container) === 'agent')) {
      const { parsed } = optionsOf(container, deployment.metadata.namespace ?? '', deployment.metadata.name);
      const instance = String(parsed.instance);
      expect(isToken(instance)).toBe(true);
      expect(registry.instances.get(instance)?.architecture, instance).toBe(parsed.architecture);
      // By convention of deploy/nats/accounts.conf, an agent's NATS user is its instance id.
      expect(parsed.natsUser, instance).toBe(instance);
      // The registry is strict: the cluster an agent names its own (in-cluster) one must be its.
      if (parsed.cluster !== undefined) {
        const cluster = String(parsed.cluster);
        const tags = tagEvent(registry, instance, cluster, `/argocd/${cluster}/podinfo/podinfo`);
        expect(tags, `${instance} --cluster ${cluster}`).not.toBeInstanceOf(RejectedMessage);
      }
    }
    expect(registry.strict).toBe(true);
  });

  test('the three agent variants: Kubernetes watch with RBAC, API token without, webhook behind the Notifications URL', () => {
    const agents = new Map(
      CONTAINERS.filter((c) => programOf(c.container) === 'agent').map((c) => [
        c.dir,
        { ...c, parsed: optionsOf(c.container, c.deployment.metadata.namespace ?? '').parsed },
      ]),
    );
    const kube = agents.get('agent');
    expect(kube?.parsed.source).toBe('kubernetes');
    expect(kube?.deployment.metadata.namespace).toBe('argocd');
    expect(kube?.deployment.spec.replicas).toBe(1);
    expect(kube?.deployment.spec.template.spec.serviceAccountName).toBe('argus-agent');
    expect(kube?.parsed.kubeconfig ?? kube?.parsed.kubeServer).toBeUndefined(); // in-cluster service account

    const api = agents.get('agent-api');
    expect(api?.parsed.source).toBe('api');
    expect(api?.parsed.argocdUrl).toMatch(/^https:\/\//);
    expect(
      api?.container.env?.find((e) => e.name === 'ARGUS_ARGOCD_TOKEN')?.valueFrom?.secretKeyRef,
    ).toBeDefined();
    expect(api?.deployment.spec.replicas).toBe(1);

    const webhook = agents.get('agent-webhook');
    expect(webhook?.parsed.source).toBe('webhook');
    expect(webhook?.parsed.webhookToken).toBeDefined();
    for (const variant of [api, webhook]) {
      expect(variant?.deployment.spec.template.spec.automountServiceAccountToken).toBe(false);
      expect(variant?.deployment.spec.template.spec.serviceAccountName).toBeUndefined();
    }
    // argocd-notifications-cm posts to this Service.
    const notifications = parse(
      readFileSync(join(ROOT, 'deploy/argocd-notifications/argocd-notifications-cm.yaml'), 'utf8'),
    ) as { data: Record<string, string> };
    const url = (parse(notifications.data['service.webhook.argus'] ?? '') as { url: string }).url;
    const [service] = ofKind<Service>('Service', 'agent-webhook');
    const port = service?.object.spec.ports[0]?.port;
    expect(url).toBe(
      `http://${service?.object.metadata.name}.${service?.object.metadata.namespace}.svc.cluster.local:${port}${WEBHOOK_PATH}`,
    );
  });

  test('every agent runs node with the flags the agent benchmark measures, on the command line, and node takes them', () => {
    const agents = CONTAINERS.filter(({ container }) => programOf(container) === 'agent');
    expect(agents.length).toBe(3);
    for (const { container } of agents) {
      const { nodeFlags } = commandOf(container);
      expect(nodeFlags, container.name).toEqual(AGENT_NODE_OPTIONS.split(' '));
      const run = spawnSync(process.execPath, [...nodeFlags, '-e', ''], { encoding: 'utf8' });
      expect(run.stderr, `${container.name}: node ${nodeFlags.join(' ')}`).toBe('');
      expect(run.status).toBe(0);
    }
  });

  test('RBAC: only get, list and watch on applications.argoproj.io, bound to the Kubernetes agent only', () => {
    const roles = [
      ...ofKind<K8sObject & { rules: PolicyRule[] }>('Role'),
      ...ofKind<K8sObject & { rules: PolicyRule[] }>('ClusterRole'),
    ];
    expect(roles.length).toBeGreaterThan(0);
    for (const { object } of roles) {
      expect(object.rules.length).toBeGreaterThan(0);
      for (const rule of object.rules) {
        expect(rule.apiGroups).toEqual(['argoproj.io']);
        expect(rule.resources).toEqual(['applications']);
        expect(rule.resourceNames).toBeUndefined();
        expect(rule.nonResourceURLs).toBeUndefined();
        for (const verb of rule.verbs) expect(['get', 'list', 'watch']).toContain(verb);
      }
    }
    const bindings = [...ofKind<Binding>('RoleBinding'), ...ofKind<Binding>('ClusterRoleBinding')];
    expect(bindings.map((b) => b.dir)).toEqual(['agent']);
    for (const { object } of bindings) {
      expect(
        roles.some(
          (r) => r.object.kind === object.roleRef.kind && r.object.metadata.name === object.roleRef.name,
        ),
      ).toBe(true);
      expect(object.subjects).toEqual([{ kind: 'ServiceAccount', name: 'argus-agent', namespace: 'argocd' }]);
    }
    expect(ofKind('ServiceAccount').map(({ object }) => object.metadata.name)).toEqual(['argus-agent']);
  });
});

interface Kustomization {
  readonly namespace?: string;
  readonly nameSuffix?: string;
  readonly resources: string[];
  readonly patches?: { readonly path: string }[];
  readonly labels?: { readonly pairs: Record<string, string>; readonly includeSelectors?: boolean }[];
}
const kustomization = (dir: string): Kustomization =>
  parse(readFileSync(join(K8S, dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
const OVERLAYS = readdirSync(join(K8S, 'overlays')).map((name) => `overlays/${name}`);

/** kind/namespace/name of every object a kustomization creates (its bases' with its suffix and namespace). */
const objectsOf = (dir: string): string[] => {
  const k = kustomization(dir);
  return k.resources.flatMap((resource) => {
    const path = join(dir, resource);
    const names = resource.endsWith('.yaml')
      ? LOADED.filter((l) => l.file === path).map(
          ({ object }) => `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`,
        )
      : objectsOf(relative(K8S, join(K8S, path)));
    return names
      .filter((id) => !id.startsWith('Kustomization/'))
      .map((id) => {
        const [kind, namespace, name] = id.split('/');
        const scoped = kind === 'Namespace' ? '' : (k.namespace ?? namespace);
        return `${kind}/${scoped}/${name}${k.nameSuffix ?? ''}`;
      });
  });
};

describe('deploy/k8s: many clusters', () => {
  test('overlays/cluster-b: a second agent whose names, pod labels and Secrets collide with nothing', () => {
    expect(OVERLAYS).toEqual(['overlays/cluster-b']);
    const all = ['hub', 'agent', 'agent-api', 'agent-webhook', ...OVERLAYS].flatMap(objectsOf);
    const seen = new Set<string>();
    const collisions = all.filter((id) => seen.size === seen.add(id).size);
    expect(collisions).toEqual([]);
    expect(all).toContain('Deployment/argocd/argus-agent-cluster-b');
    expect(all).toContain('Deployment/argocd/argus-agent');
    // Two Deployments in one namespace must not select each other's pods: the overlay adds a label
    // to its selector.
    const overlay = kustomization('overlays/cluster-b');
    expect(overlay.labels?.[0]?.includeSelectors).toBe(true);
    const [base] = ofKind<Deployment>('Deployment', 'agent');
    for (const [key, value] of Object.entries(overlay.labels?.[0]?.pairs ?? {}))
      expect(base?.object.spec.selector.matchLabels[key], key).not.toBe(value);
  });

  test("overlays/cluster-b: the patched agent's options parse, over TLS, with a Secret of its own, and the registry lists it", () => {
    const dir = 'overlays/cluster-b';
    const read = (file: string) =>
      parseAllDocuments(readFileSync(join(K8S, dir, file), 'utf8')).map((d) => d.toJS() as K8sObject);
    const [patch] = read(kustomization(dir).patches?.[0]?.path ?? '') as Deployment[];
    const container = patch?.spec.template.spec.containers[0];
    if (container === undefined) throw new Error('the patch has no container');
    const secrets = read('secret.example.yaml') as (K8sObject & { stringData: Record<string, string> })[];
    for (const secret of secrets)
      SECRETS.set(`${secret.metadata.namespace}/${secret.metadata.name}`, secret.stringData);
    const { parsed } = optionsOf({ ...container, command: ['argus', 'agent'] }, 'argocd', 'cluster-b agent');
    expect(parsed.instance).toBe('argo-b');
    expect(parsed.natsUser).toBe('argo-b');
    expect(String(parsed.nats)).toMatch(/^tls:\/\//);
    // The CA file is on the Secret volume the patch adds.
    const mount = container.volumeMounts?.find((m) => String(parsed.natsCa).startsWith(`${m.mountPath}/`));
    const volume = patch?.spec.template.spec.volumes?.find((v) => v.name === mount?.name);
    const ca = secrets.find((s) => s.metadata.name === volume?.secret?.secretName);
    expect(Object.keys(ca?.stringData ?? {})).toContain(String(parsed.natsCa).split('/').pop());
    // Its NATS Secret is not the base agent's.
    const refs = (c: Container) =>
      new Set((c.env ?? []).map((e) => e.valueFrom?.secretKeyRef?.name).filter(Boolean));
    const [base] = ofKind<Deployment>('Deployment', 'agent');
    const baseRefs = refs(base?.object.spec.template.spec.containers[0] as Container);
    for (const name of refs(container)) expect(baseRefs.has(name), String(name)).toBe(false);
    const [cm] = ofKind<K8sObject & { data: Record<string, string> }>('ConfigMap', 'hub');
    const registry = buildRegistry(parse(cm?.object.data['registry.yaml'] ?? ''));
    expect(registry.instances.get('argo-b')?.architecture).toBe(parsed.architecture);
    expect(tagEvent(registry, 'argo-b', 'cluster-b', '/argocd/cluster-b/podinfo/podinfo')).not.toBeInstanceOf(
      RejectedMessage,
    );
  });

  test("the Ingress and Gateway API examples route to the hub Service's ports: gRPC as gRPC, the ingest as HTTP", () => {
    const [service] = ofKind<Service>('Service', 'hub');
    const ports = service?.object.spec.ports ?? [];
    const byName = (name: string) => ports.find((p) => p.name === name);
    const ingresses = ofKind<
      K8sObject & {
        metadata: Metadata & { annotations?: Record<string, string> };
        spec: {
          rules: {
            http: {
              paths: { path: string; backend: { service: { name: string; port: { name: string } } } }[];
            };
          }[];
        };
      }
    >('Ingress', 'hub');
    expect(ingresses.map((i) => i.object.metadata.name).sort()).toEqual(['argus-hub-grpc', 'argus-hub-http']);
    for (const { object } of ingresses) {
      for (const { path, backend } of object.spec.rules.flatMap((r) => r.http.paths)) {
        expect(backend.service.name).toBe(service?.object.metadata.name);
        const port = byName(backend.service.port.name);
        expect(port, backend.service.port.name).toBeDefined();
        if (port?.name === 'grpc')
          expect(object.metadata.annotations?.['nginx.ingress.kubernetes.io/backend-protocol']).toBe('GRPC');
        else expect(path).toBe(INGEST_PATH);
      }
      if (object.metadata.name === 'argus-hub-http')
        expect(object.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-body-size']).toBe(
          `${HUB_OPTIONS.maxBatchBytes.default / 1_048_576}m`,
        );
    }
    expect(byName('grpc')).toMatchObject({ appProtocol: 'grpc' });
    const proto = readFileSync(join(ROOT, 'proto/argus/v1/query.proto'), 'utf8');
    const grpcService = `${/^package ([\w.]+);/m.exec(proto)?.[1]}.${/^service (\w+)/m.exec(proto)?.[1]}`;
    type Route = K8sObject & {
      spec: {
        rules: { matches: Record<string, unknown>[]; backendRefs: { name: string; port: number }[] }[];
      };
    };
    const [grpcRoute] = ofKind<Route>('GRPCRoute', 'hub');
    const [httpRoute] = ofKind<Route>('HTTPRoute', 'hub');
    expect(grpcRoute?.object.spec.rules[0]?.matches[0]).toEqual({ method: { service: grpcService } });
    expect(grpcRoute?.object.spec.rules[0]?.backendRefs).toEqual([
      { name: 'argus-hub', port: byName('grpc')?.port },
    ]);
    expect(httpRoute?.object.spec.rules[0]?.matches[0]).toEqual({
      path: { type: 'Exact', value: INGEST_PATH },
      method: 'POST',
    });
    expect(httpRoute?.object.spec.rules[0]?.backendRefs).toEqual([
      { name: 'argus-hub', port: byName('http')?.port },
    ]);
  });
});
