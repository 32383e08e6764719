#!/usr/bin/env node
import { parseArgs } from 'node:util';
import {
  loadNotificationsConfigMap,
  NotificationsController,
  postNotification,
  subscribeEveryApp,
} from './notifications.js';
import { isArgoCdVersion, UnknownVersionError } from './profiles.js';
import { loadScenario, runScenario, simulatorFor } from './scenario.js';
import { startArgoCdApi, startKubeApi } from './servers.js';

const HELP = `argocd-sim: a simulated Argo CD (API server and Kubernetes API) playing a scenario

Usage: argocd-sim --scenario <file.yaml> [options]

Options:
  --scenario <file>        scenario YAML (instance, apps, timed steps)   (required)
  --api-listen <host:port> Argo CD API server listener (default 127.0.0.1:0)
  --kube-listen <host:port> Kubernetes API listener (default 127.0.0.1:0)
  --token <token>          bearer token both APIs require (default sim-token)
  --argocd-version <v>     Argo CD version profile, overrides the scenario's instance.version
                           (2.8, 2.14, 3.0, 3.1, 3.2; default 3.1)
  --speed <n>              scenario time runs n times faster (default 1)
  --drop-every <n>         drop every n-th API stream message, as Argo CD does under load (default 0)
  --notify <url>           also post Argo CD Notifications webhooks to this URL (e.g. an agent's /api/v1/notifications)
  --notifications-cm <file> argocd-notifications-cm.yaml for --notify (default deploy/argocd-notifications/argocd-notifications-cm.yaml)
  --help                   this help

Prints one JSON line when ready: {"api":"http://…","kube":"http://…","instance":"…"}, then one line per step.`;

const hostPort = (value: string | undefined) => {
  const [host = '127.0.0.1', port = '0'] = (value ?? '127.0.0.1:0').split(':');
  return { host, port: Number(port) };
};

const main = async () => {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string' },
      'api-listen': { type: 'string' },
      'kube-listen': { type: 'string' },
      token: { type: 'string', default: 'sim-token' },
      'argocd-version': { type: 'string' },
      speed: { type: 'string', default: '1' },
      'drop-every': { type: 'string', default: '0' },
      notify: { type: 'string' },
      'notifications-cm': {
        type: 'string',
        default: 'deploy/argocd-notifications/argocd-notifications-cm.yaml',
      },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help === true || values.scenario === undefined) {
    process.stdout.write(`${HELP}\n`);
    process.exitCode = values.help === true ? 0 : 2;
    return;
  }
  const loaded = await loadScenario(values.scenario);
  const version = values['argocd-version'];
  if (version !== undefined && !isArgoCdVersion(version)) throw new UnknownVersionError(version);
  const scenario = version === undefined ? loaded : { ...loaded, instance: { ...loaded.instance, version } };
  const target = simulatorFor(scenario);
  const token = values.token ?? 'sim-token';
  const api = await startArgoCdApi(target.sim, {
    token,
    ...hostPort(values['api-listen']),
    dropEvery: Number(values['drop-every']),
  });
  const kube = await startKubeApi(target.sim, { token, ...hostPort(values['kube-listen']) });
  process.stdout.write(
    `${JSON.stringify({ api: api.url, kube: kube.url, instance: scenario.instance.name })}\n`,
  );
  let notifications = Promise.resolve();
  if (values.notify !== undefined) {
    const notify = values.notify;
    const controller = new NotificationsController(
      // Every trigger subscribed, as deploy/argocd-notifications/subscribe.sh does.
      subscribeEveryApp(await loadNotificationsConfigMap(values['notifications-cm'] ?? '')),
    );
    // Posted in order, one at a time, as the notification controller sends them; DELETED objects are never seen.
    target.sim.subscribe((event) => {
      if (event.type === 'DELETED') return;
      for (const n of controller.observe(event.app)) {
        notifications = notifications.then(async () => {
          const result = await postNotification(notify, n.body, { path: n.path, method: n.method }).catch(
            (error: unknown) => ({ status: 0, body: String(error) }),
          );
          process.stdout.write(
            `${JSON.stringify({ notification: n.trigger, template: n.template, status: result.status, ...(result.status === 202 ? {} : { answer: result.body }) })}\n`,
          );
        });
      }
    });
  }
  const stop = new AbortController();
  const close = () => {
    stop.abort();
    void Promise.all([api.close(), kube.close()]).then(() => process.exit(0));
  };
  process.on('SIGINT', close);
  process.on('SIGTERM', close);
  try {
    await runScenario(target, scenario, {
      speed: Number(values.speed),
      signal: stop.signal,
      onStep: (step, index) =>
        process.stdout.write(
          `${JSON.stringify({ step: index, at: step.at, action: Object.keys(step).find((k) => k !== 'at') })}\n`,
        ),
    });
  } catch (error) {
    // A step the app's state or the version profile refuses: stop serving, or the process never ends.
    await Promise.all([api.close(), kube.close()]);
    throw error;
  }
  await notifications;
  process.stdout.write(`${JSON.stringify({ done: true, resourceVersion: target.sim.resourceVersion })}\n`);
};

main().catch((error: unknown) => {
  process.stderr.write(`argocd-sim: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
