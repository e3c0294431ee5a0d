/**
 * Simulated front-ends. Each sends a sequence of requests to a random live proposer and retries the
 * same request (same ids, same bodies) after a timeout or a 503 until it gets an answer, as a real
 * front-end must. Requests: new fills, busts and corrections of its own earlier fills, deliberate
 * resends of an acknowledged request, and deliberate conflicts (an acknowledged id with another body).
 */
import type { EntryInput } from "../../src/core/entry-schema.js";
import type { BatchOutcome, Receipt } from "../../src/core/ledger-types.js";
import { ProposerOverloadedError } from "../../src/core/proposer/index.js";
import type { Cluster, SimProposer } from "./cluster.js";
import type { Prng } from "./prng.js";
import type { World } from "./world.js";

export type RequestKind = "fills" | "bust" | "correction" | "resend" | "conflict";

export interface ClientRequest {
  readonly kind: RequestKind;
  readonly entries: readonly EntryInput[];
  /** For a resend: the receipts the first send got. */
  readonly original?: readonly Receipt[];
  /** For a conflict: ids that appear only in this request and so must never be applied. */
  readonly neverApplied?: readonly string[];
  /** Every outcome any attempt returned (a late answer to a timed-out attempt counts too). */
  readonly outcomes: BatchOutcome[];
  /**
   * The answer of the first attempt, when it came before any other attempt was sent: no other
   * request had these ids then, so a fresh request's entries must all be `created` in it.
   */
  firstAnswer?: BatchOutcome;
  attempts: number;
  done: boolean;
  sentAt_ms: number;
  answeredAt_ms?: number;
}

const accounts = ["acct-1", "acct-2", "acct-3"];
const symbols = ["AAPL", "MSFT", "EURUSD"];
const client_timeout_ms = 3000;
const client_backoff_ms_max = 400;
const client_attempts_max = 200;

export class SimClient {
  readonly requests: ClientRequest[] = [];
  private readonly acked: Array<{ request: ClientRequest; receipts: readonly Receipt[] }> = [];
  private readonly referenced = new Set<string>();
  private nextEntry = 0;
  finished = false;

  constructor(
    readonly name: string,
    private readonly world: World,
    private readonly cluster: Cluster,
    private readonly rng: Prng,
    private readonly requests_total: number,
    /** Sends to this proposer while it is up (a burst that loads one proposer), else to a random live one. */
    private readonly preferred?: SimProposer,
  ) {}

  private newId(): string {
    return `${this.name}-e${this.nextEntry++}`;
  }

  private fill(execType?: "correction" | "bust", ref?: EntryInput): EntryInput {
    const quantity = `${this.rng.int(1, 500)}${this.rng.chance(0.3) ? `.${this.rng.int(1, 99)}` : ""}`;
    const price = `${this.rng.int(1, 300)}.${String(this.rng.int(0, 9999)).padStart(4, "0")}`;
    const base = {
      id: this.newId(),
      account: ref?.account ?? this.rng.pick(accounts),
      symbol: ref?.symbol ?? this.rng.pick(symbols),
      side: ref?.side ?? (this.rng.chance(0.5) ? ("buy" as const) : ("sell" as const)),
      quantity: execType === "bust" && ref ? ref.quantity : quantity,
      price: execType === "bust" && ref ? ref.price : price,
    };
    const fee = this.rng.chance(0.5) ? { fee: `0.${this.rng.int(1, 99)}` } : {};
    return execType === undefined || ref === undefined
      ? { ...base, ...fee }
      : { ...base, ...fee, execType, refId: ref.id };
  }

  private buildRequest(): ClientRequest {
    const roll = this.rng.next();
    const fresh = (kind: RequestKind, entries: EntryInput[], extra: Partial<ClientRequest> = {}): ClientRequest => ({
      kind,
      entries,
      outcomes: [],
      attempts: 0,
      done: false,
      sentAt_ms: this.world.now_ms,
      ...extra,
    });
    const unreferenced = this.acked
      .flatMap((a) => (a.request.kind === "fills" || a.request.kind === "correction" ? a.request.entries : []))
      .filter((e) => !this.referenced.has(e.id));
    if (roll < 0.12 && unreferenced.length > 0) {
      const ref = this.rng.pick(unreferenced);
      this.referenced.add(ref.id);
      const kind = this.rng.chance(0.5) ? "bust" : "correction";
      return fresh(kind, [this.fill(kind, ref)]);
    }
    if (roll < 0.2 && this.acked.length > 0) {
      const a = this.rng.pick(this.acked);
      return fresh("resend", [...a.request.entries], { original: a.receipts });
    }
    if (roll < 0.26 && this.acked.length > 0) {
      const a = this.rng.pick(this.acked);
      const victim = a.request.entries[0]!;
      const extra = this.fill();
      const changed: EntryInput = { ...victim, price: `${victim.price}1`.replace(/^(\d+)$/, "$1.1") };
      return fresh("conflict", [extra, changed], { neverApplied: [extra.id] });
    }
    const n = this.rng.int(1, 3);
    return fresh(
      "fills",
      Array.from({ length: n }, () => this.fill()),
    );
  }

  async run(): Promise<void> {
    for (let r = 0; r < this.requests_total; r++) {
      const request = this.buildRequest();
      this.requests.push(request);
      await this.send(request);
      if (!request.done) return; // out of attempts: the liveness check reports it
      const outcome = request.outcomes.at(-1);
      if (outcome?.kind === "applied" && request.kind !== "conflict")
        this.acked.push({ request, receipts: outcome.receipts });
      await this.world.sleep(this.rng.uniform(0, 50));
    }
    this.finished = true;
  }

  /**
   * Open loop: requests arrive at Poisson times (exponential gaps of mean `mean_gap_ms`, from this
   * client's stream) whether or not the earlier ones are answered, as many front-ends' appends reach
   * one isolate at once; each is retried as `run` retries it, and finished means all were answered.
   */
  async runOpenLoop(mean_gap_ms: number): Promise<void> {
    const pending: Array<Promise<void>> = [];
    for (let r = 0; r < this.requests_total; r++) {
      await this.world.sleep(this.rng.exponential(mean_gap_ms));
      const request = this.buildRequest();
      this.requests.push(request);
      pending.push(
        this.send(request).then(() => {
          const outcome = request.outcomes.at(-1);
          if (request.done && outcome?.kind === "applied" && request.kind !== "conflict")
            this.acked.push({ request, receipts: outcome.receipts });
        }),
      );
    }
    await Promise.all(pending);
    this.finished = this.requests.every((r) => r.done);
  }

  /** The preferred proposer while it is up and still in the cluster (a retired isolate never comes back). */
  private preferredTarget(): SimProposer | undefined {
    const p = this.preferred;
    return p?.up && this.cluster.proposers.includes(p) ? p : undefined;
  }

  private async send(request: ClientRequest): Promise<void> {
    while (request.attempts < client_attempts_max) {
      request.attempts++;
      const live = this.cluster.proposers.filter((p) => p.up);
      if (live.length > 0) {
        const target = this.preferredTarget() ?? this.rng.pick(live);
        const attempt = request.attempts;
        const answer = await new Promise<BatchOutcome | undefined>((resolve) => {
          target.append(request.entries).then(
            (outcome) => {
              request.outcomes.push(outcome);
              if (attempt === 1 && request.attempts === 1) request.firstAnswer = outcome;
              resolve(outcome);
            },
            (error: unknown) => {
              // A full queue (429) proposed nothing: retry later, like a 503. Not a violation.
              if (error instanceof ProposerOverloadedError) this.cluster.counters.overloaded_429++;
              resolve(undefined);
            },
          );
          this.world.schedule(client_timeout_ms, () => resolve(undefined));
        });
        if (answer !== undefined) {
          request.done = true;
          request.answeredAt_ms = this.world.now_ms;
          return;
        }
      }
      await this.world.sleep(this.rng.uniform(10, client_backoff_ms_max));
    }
  }
}
