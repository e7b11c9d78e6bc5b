// Public surface of the datapaths for the node agent.
export { Datapath, type DatapathOptions } from './datapath.js';
export { ownedObjects, plan, type Plan, type PodProblem } from './plan.js';
export type { Action } from './actions.js';
export { detectCapabilities, ipvlanSupported, probeLinkKind, type Capabilities } from './capabilities.js';
export { DatapathError, type DatapathErrorReason, type CniResult, type PodRef, type PodSandbox } from './types.js';
export { ownedRole, eniTable, vethHostName, exclusiveHostName, ipvlanHostName, TABLE_BASE, TABLE_LIMIT, RULE_TO_POD_PRIORITY, RULE_FROM_POD_PRIORITY, OWNED_PROTOCOL } from './names.js';
export type { Snapshot } from '../netlink/model.js';
export { CURRENT_NETNS, namedNetns, pathNetns, type Netns } from '../netlink/netns.js';
export { processesSpawned } from '../netlink/exec.js';
