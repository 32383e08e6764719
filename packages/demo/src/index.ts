export type { DemoOptions } from './demo.js';
export { EXPECTED_CLUSTERS, EXPECTED_TYPES, runDemo } from './demo.js';
export type { Architecture, CiEvent, DemoInstance, DemoStep } from './world.js';
export { INSTANCES, podinfoPurl, registryYaml, SCENARIO, SCENARIO_SPAN_MS } from './world.js';
