/**
 * The coordinator design (issue #12) in the simulator. One coordinator per ledger (a Durable Object
 * in one region) runs the production `Proposer`; its answers come from the production `answerOf`.
 * Every simulated Worker isolate (a `SimProposer` of `Cluster.proposers`) forwards each append and
 * each read's recovery `sync` to it with the production `forwardAppend` / `forwardSync`, over a
 * `CoordinatorLink` whose calls cross the simulated network: half the RTT between the Worker's region
 * and the coordinator's each way (with the cluster's jitter), lost on a dropped message or a cut
 * link (the forward then times out at deadline + margin), failed or silent when the coordinator is
 * down. A reset of the Durable Object (`reset`, or any crash of its node) loses its memory: the
 * next life is a fresh proposer with a new proposerId (`k0.2`, ...) that must run phase 1, and every
 * forward inside the old life either fails (the platform reports the reset) or is never answered;
 * or, as the platform allows for an instance that never touches storage, the old life goes on with
 * what it holds beside the new one (two coordinators at once: Paxos, not uniqueness, keeps it safe).
 *
 * The Worker never proposes. `fallback: "direct_for_tests"` is the trap the study found, kept only
 * as a broken variant for `checker-catches.test.ts`: a forward that fails or times out is proposed
 * again by the Worker's own proposer.
 */
import { InvariantViolation } from "../../src/core/assert.js";
import {
  answerOf,
  type CoordinatorAnswer,
  type CoordinatorLink,
  coordinator_proposer_options,
  type ForwardEnv,
  forwardAppend,
  forwardSync,
} from "../../src/core/coordinator/index.js";
import type { EntryInput } from "../../src/core/entry-schema.js";
import type { BatchOutcome } from "../../src/core/ledger-types.js";
import type { Proposer } from "../../src/core/proposer/index.js";
import type { RequestOptions } from "../../src/core/proposer/types.js";
import { type RegionHint, regionRtt_ms } from "../../src/core/region-rtt.js";
import type { Cluster, SimProposer, WorkerRoute } from "./cluster.js";
import type { Prng } from "./prng.js";
import type { World } from "./world.js";

/** What a Worker does when its forward fails or times out: answer 503 (the design), or the broken fallback. */
export type ForwardFallback = "none" | "direct_for_tests";

/**
 * What the coordinator's proposer runs with beyond the cluster's options, as production's coordinator
 * (`LedgerServices`, role "coordinator"): a Durable Object runs all its requests in one I/O context.
 * With it, seed 26 misses the liveness bound (a coordinator misplaced in oc, 7 acceptors with
 * Q1 = Q2 = 4, tiny limits): its phase 1 is cut by the driving request's deadline and restarted at
 * a new ballot each time a request expires, so no slot is chosen for about 15 s after the heal.
 * Without the option the same seed also passes heal + 30 s with clients unfinished, but they finish
 * before the run's end, where the checker looks. Placed in enam, as production places it, it ends
 * 12.7 s after the heal.
 */
/** The coordinator's proposer options: production's own. */
export { coordinator_proposer_options };

/** The name of the coordinator's node; each life's proposerId is `k0.<life>`. */
export const coordinator_node_name = "k0";

/** A forward the coordinator holds: what to do to its Worker when the coordinator is reset under it. */
interface HeldForward {
  readonly fail: () => void;
}

export class SimCoordinator implements WorkerRoute {
  /** The Durable Object's proposer: outside `Cluster.proposers`, so no client sends to it directly. */
  readonly node: SimProposer;
  private readonly held = new Set<HeldForward>();

  constructor(
    private readonly cluster: Cluster,
    private readonly world: World,
    /** The link's own stream (delays, losses), so forwarding does not shift the cluster's draws. */
    private readonly rng: Prng,
    readonly region: RegionHint,
    readonly fallback: ForwardFallback = "none",
  ) {
    this.node = cluster.addNode(coordinator_node_name, region, coordinator_proposer_options);
    // Whatever crashes the node (a reset below, an aimed leader cut): the forwards it held are lost.
    this.node.onCrash = () => this.loseHeldForwards();
  }

  get up(): boolean {
    return this.node.up;
  }

  /**
   * A Durable Object reset: memory lost at once; the next life starts `down_ms` later (0: at once).
   * `overlapping`: the new life starts at once while the old one finishes the requests it holds
   * (and answers them), as an instance the platform replaced elsewhere may.
   */
  reset(down_ms = 0, overlapping = false): void {
    if (!this.node.up) return;
    this.cluster.counters.coordinator_resets++;
    if (overlapping) {
      this.cluster.counters.coordinator_overlapping_lives++;
      this.node.replace();
      return;
    }
    this.node.crash();
    if (down_ms <= 0) this.node.restart();
    else this.world.schedule(down_ms, () => this.restart());
  }

  restart(): void {
    if (!this.node.up) this.node.restart();
  }

  append(worker: SimProposer, entries: readonly EntryInput[], options: RequestOptions): Promise<BatchOutcome> {
    const link = this.linkFrom(worker);
    if (this.fallback === "none") return forwardAppend(link, this.envOf(worker), entries, options);
    return this.appendWithFallback(worker, link, entries, options);
  }

  sync(worker: SimProposer, options: RequestOptions): Promise<void> {
    return forwardSync(this.linkFrom(worker), this.envOf(worker), options);
  }

  /**
   * The broken variant: when no answer came back (the call failed or timed out), the Worker proposes
   * the same request itself. A request the coordinator did commit then comes back `exists`.
   */
  private async appendWithFallback(
    worker: SimProposer,
    link: CoordinatorLink,
    entries: readonly EntryInput[],
    options: RequestOptions,
  ): Promise<BatchOutcome> {
    let answered = false;
    const noting: CoordinatorLink = {
      append: (e, o) =>
        link.append(e, o).then((answer) => {
          answered = true;
          return answer;
        }),
      sync: (o) => link.sync(o),
    };
    try {
      return await forwardAppend(noting, this.envOf(worker), entries, options);
    } catch (error) {
      if (answered) throw error;
      this.cluster.counters.forward_fallbacks++;
      return worker.proposer.append(entries, undefined, options);
    }
  }

  /** The Worker's timer: a crashed isolate's never fires (its request simply stops, as its proposer's do). */
  private envOf(worker: SimProposer): ForwardEnv {
    return {
      sleep: (ms) => {
        const epoch = worker.epoch;
        return new Promise((resolve) => this.world.schedule(ms, () => worker.epoch === epoch && resolve()));
      },
    };
  }

  /** The coordinator as `worker` reaches it: each call crosses the network both ways. */
  linkFrom(worker: SimProposer): CoordinatorLink {
    return {
      append: (entries, options) => this.call(worker, (p) => p.append(entries, undefined, options)),
      sync: (options) => this.call(worker, (p) => p.sync(undefined, options).then(() => null)),
    };
  }

  private oneWay_ms(a: RegionHint, b: RegionHint): number {
    const jitter = Math.min(0.5, this.rng.exponential(this.cluster.faults.jitter_fraction_mean));
    return (regionRtt_ms(a, b) / 2) * (1 + jitter);
  }

  private linkUp(worker: SimProposer): boolean {
    return this.cluster.linkUp(worker.name, this.node.name);
  }

  /**
   * One RPC from `worker` to the coordinator, running `work` on its proposer and answering with
   * `answerOf`. A lost request or answer never settles (the forward times out); a coordinator that
   * is down fails the call half the time (the platform reports it) and is silent otherwise.
   */
  private call<T>(worker: SimProposer, work: (p: Proposer) => Promise<T>): Promise<CoordinatorAnswer<T>> {
    const workerEpoch = worker.epoch;
    const faults = this.cluster.faults;
    return new Promise<CoordinatorAnswer<T>>((resolve, reject) => {
      if (!worker.up) return;
      this.cluster.counters.coordinator_forwards++;
      if (this.rng.chance(faults.drop_rate) || !this.linkUp(worker)) return;
      const out_ms = this.oneWay_ms(worker.region, this.region);
      /** Delivers to the Worker after the way back, unless its isolate or the link is gone, or the answer is lost. */
      const back = (deliver: () => void) => {
        const dropped = this.rng.chance(faults.drop_rate);
        this.world.schedule(this.oneWay_ms(this.region, worker.region), () => {
          if (dropped || worker.epoch !== workerEpoch || !this.linkUp(worker)) return;
          deliver();
        });
      };
      this.world.schedule(out_ms, () => {
        const node = this.node;
        if (!node.up) {
          if (this.rng.chance(0.5)) back(() => reject(new Error("the coordinator is down")));
          return;
        }
        const life = node.epoch;
        const heldForward: HeldForward = {
          fail: () => {
            if (this.rng.chance(0.5)) back(() => reject(new Error("the coordinator's Durable Object was reset")));
          },
        };
        this.held.add(heldForward);
        answerOf(startWork(() => work(node.proposer))).then(
          (answer) => {
            this.held.delete(heldForward);
            if (node.epoch !== life) return; // reset meanwhile: `fail` ran
            const copy = structuredClone(answer); // a copy stands in for serialization
            back(() => resolve(copy));
          },
          (error: unknown) => {
            this.held.delete(heldForward);
            // Not an answer: a bug of the proposer. The RPC fails (the Worker answers 503), and an
            // assertion that fired is a violation the checker reports.
            if (error instanceof InvariantViolation)
              this.cluster.proposerViolations.push(`${node.name}: ${error.message}`);
            if (node.epoch !== life) return;
            back(() => reject(error));
          },
        );
      });
    });
  }

  private loseHeldForwards(): void {
    const lost = [...this.held];
    this.held.clear();
    for (const h of lost) h.fail();
  }
}

/** The work's promise; a synchronous throw becomes its rejection, as an async RPC handler's does. */
function startWork<T>(work: () => Promise<T>): Promise<T> {
  try {
    return work();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Puts a coordinator in front of the cluster: from now on every Worker (present and future) forwards to it. */
export function useCoordinator(
  cluster: Cluster,
  world: World,
  rng: Prng,
  region: RegionHint,
  fallback: ForwardFallback = "none",
): SimCoordinator {
  const coordinator = new SimCoordinator(cluster, world, rng, region, fallback);
  cluster.setRoute(coordinator);
  cluster.coordinator = coordinator;
  return coordinator;
}
