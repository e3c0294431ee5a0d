/** The Multi-Paxos proposer: its class, the errors it answers with, and what it is given. */
export { ownEntriesCreated, Proposer } from "./proposer.js";
export { ProposerOverloadedError, QuorumUnavailableError } from "./errors.js";
export type { ProposerEnv, ProposerOptions, RecentCommits, RequestOptions } from "./types.js";
