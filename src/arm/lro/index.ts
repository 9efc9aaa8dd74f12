/** The long-running-operation protocol: modes, records, status and result responses, commit-with-retry. */
export * from './modes.js';
export * from './records.js';
export * from './responses.js';
export * from './commit.js';
