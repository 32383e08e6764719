import { AGENT_OPTIONS, runAgent } from '@argus/agent';
import { optionsHelp, parseArgsConfig, parseOptions } from '@argus/runtime';
import { type Command, EXIT_FAILURE, EXIT_OK } from '../command.js';
import { optionsFromFlags } from '../options.js';

export const agentCommand: Command = {
  name: 'agent',
  summary: 'run an agent beside one Argo CD: watch its Applications, publish CDEvents onto JetStream',
  usage: 'argus agent --instance <id> --source api|kubernetes|webhook [--nats <url>] [source options]',
  options: parseArgsConfig(AGENT_OPTIONS),
  optionHelp: optionsHelp(AGENT_OPTIONS),
  examples: [
    'argus agent --instance prod-eu --source api --argocd-url https://argocd.example.com --argocd-token $TOKEN',
    'argus agent --instance prod-us --source kubernetes --cluster prod-us --namespace argocd',
    'argus agent --instance staging --source webhook --listen 0.0.0.0:9090 --webhook-token $SECRET',
  ],
  async run({ values }, io) {
    const options = parseOptions(AGENT_OPTIONS, { flags: optionsFromFlags(values), env: io.env });
    const running = await runAgent(options);
    return new Promise<number>((resolve) => {
      running.shutdown.handleSignals((code) =>
        resolve(code === 0 ? EXIT_OK : code === 130 ? 130 : EXIT_FAILURE),
      );
    });
  },
};
