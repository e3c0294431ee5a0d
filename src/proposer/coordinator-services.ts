/**
 * The coordinator Durable Object's ledger services: one proposer per ledger it coordinates, cached
 * like the Worker's (`LedgerServices`). A module of its own so that the bench routes can reset it
 * beside the Worker's (under `wrangler dev` both live in one isolate; in production each coordinator
 * is its own object and the bench routes do not exist).
 */
import { LedgerServices } from "./ledger-services.js";

export const coordinatorServices = new LedgerServices("coordinator");
