export { EXPECTED_CLUSTERS, EXPECTED_TYPES } from './demo.js';
export type { DemoInstance } from './world.js';
export { INSTANCES, registryYaml, SCENARIO, SCENARIO_SPAN_MS } from './world.js';
