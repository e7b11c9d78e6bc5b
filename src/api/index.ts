export * from './common.js';
export * from './enipool.js';
export * from './networkmode.js';
export * from './nodenetwork.js';
