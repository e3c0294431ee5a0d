/**
 * Issue #12's protocol prototypes, as the contention table runs them beside the direct and
 * coordinator designs: latency models in the simulator (not production code), each with its own
 * safety self-check. Their rows are measured on the same seed and the same arrivals as the others.
 */
import { coordinatorPipelinedPrototype, describeCoordinatorPipelined } from "./coordinator-pipelined.js";
import { describeFastPaxos, fastPaxosPrototype } from "./fast-paxos.js";
import type { PrototypeFactory } from "./harness.js";
import {
  describeMencius,
  describeMenciusRegionalOwners,
  menciusPrototype,
  menciusPrototypeWith,
  menciusRegionalOwnersWith,
} from "./mencius.js";

export interface ContentionPrototype {
  /** The row's name in the table. */
  readonly name: string;
  readonly factory: PrototypeFactory;
  /** One line on the model, for the table's footnote. */
  readonly describe: string;
  /**
   * How a cold isolate joins it for the cold-joiner rows, or undefined (then why not is in
   * `describe`). Mencius' owners are fixed; its joiner forwards to the nearest owner.
   */
  readonly joining?: PrototypeFactory;
}

export const contention_prototypes: readonly ContentionPrototype[] = [
  {
    name: "coordinator, 16 slots in flight (prototype)",
    factory: coordinatorPipelinedPrototype,
    describe: describeCoordinatorPipelined,
    joining: coordinatorPipelinedPrototype,
  },
  {
    name: "Fast Paxos (prototype)",
    factory: fastPaxosPrototype,
    describe: describeFastPaxos,
    joining: fastPaxosPrototype,
  },
  {
    name: "Mencius windows (prototype)",
    factory: menciusPrototype,
    describe: describeMencius,
    joining: menciusPrototypeWith({ coldJoinersForward: true }),
  },
  {
    name: "Mencius, an owner per region (prototype)",
    factory: menciusRegionalOwnersWith(),
    describe: describeMenciusRegionalOwners,
    joining: menciusRegionalOwnersWith(),
  },
];

export { measurePrototype, measurePrototypeColdJoin, type PrototypeResult } from "./harness.js";
