/** What the pipelined coordinator prototype's parts pass around and record. */
import type { RegionHint } from "../../../../src/core/region-rtt.js";
import type { PrototypeEnv } from "../harness.js";
import type { Acceptor } from "./acceptor.js";
import type { Leader } from "./leader.js";
import type { CoordinatorPipelinedOptions } from "./options.js";

export interface Batch {
  readonly id: string;
  readonly requests: readonly string[];
}

export interface Vote {
  readonly slot: number;
  readonly ballot: number;
  readonly batch: Batch;
  /** When the acceptor recorded it (the vote counts toward "chosen" from then on). */
  readonly at_ms: number;
}

/** A promise an acceptor made in phase 1 (nothing to report with it: the log is empty). */
export interface PromiseMade {
  readonly ballot: number;
  /** When the acceptor recorded it (0 for a warm run's promise made before the run). */
  readonly at_ms: number;
}

export interface Request {
  readonly id: string;
  readonly answer: () => void;
}

export interface Answer {
  readonly id: string;
  readonly slot: number;
  readonly at_ms: number;
}

/** What the leader and the acceptors see of the run they belong to. */
export interface CoordinatorRun {
  readonly env: PrototypeEnv;
  readonly options: CoordinatorPipelinedOptions;
  readonly leaderRegion: RegionHint;
  readonly slots_in_flight_max: number;
  readonly acceptors: readonly Acceptor[];
  readonly leader: Leader;
}
