/** The Multi-Paxos proposer: its class, the errors it answers with, and what it is given. */

export { ProposerOverloadedError, QuorumUnavailableError } from "./errors.js";
export { LatencyTracker } from "./latency-tracker.js";
export { ownEntriesCreated, Proposer } from "./proposer.js";
export type { ProposerEnv, ProposerOptions, ProposerStats, RecentCommits, RequestOptions } from "./types.js";
