import { AGENT_OPTIONS, runAgent } from '@argus/agent';
import { serviceCommand } from '../service.js';

export const agentCommand = serviceCommand({
  name: 'agent',
  summary: 'run an agent beside one Argo CD: watch its Applications, publish CDEvents onto JetStream',
  usage: 'argus agent --instance <id> --source api|kubernetes|webhook [--nats <url>] [source options]',
  spec: AGENT_OPTIONS,
  examples: [
    'argus agent --instance prod-eu --source api --argocd-url https://argocd.example.com --argocd-token $TOKEN',
    'argus agent --instance prod-us --source kubernetes --cluster prod-us --namespace argocd',
    'argus agent --instance staging --source webhook --listen 0.0.0.0:9090 --webhook-token $SECRET',
  ],
  start: (options) => runAgent(options),
});
