/** The three acceptors as the worker tests see them: regions, stubs, status, fault injection. */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call } from "./http.js";

export const regions = ["enam", "wnam", "weur"] as const;
export type Region = (typeof regions)[number];

export interface AcceptorStatus {
  region: Region;
  reachable: boolean;
  appliedSeq: number | null;
  chosenThrough: number | null;
  headHash: string | null;
}

export interface Status {
  acceptors: AcceptorStatus[];
  headsAgree: boolean;
}

/** `call` with a JSON body as its third argument (what the fault and recovery tests mostly send). */
export function callJson(method: string, path: string, body?: unknown) {
  return call(method, path, body === undefined ? {} : { body });
}

export async function status(ledger: string): Promise<Status> {
  const res = await callJson("GET", `/v1/ledgers/${ledger}/status`);
  expect(res.status, res.text).toBe(200);
  return res.json as Status;
}

/** Sets the isolate's fault injection (`{}` heals). */
export async function setFaults(faults: Record<string, unknown>): Promise<void> {
  const res = await callJson("PUT", "/v1/_faults", faults);
  expect(res.status, res.text).toBe(200);
}

export function acceptorStub(ledger: string, region: Region) {
  return env.ACCEPTOR.getByName(`${ledger}:${region}`, { locationHint: region });
}
