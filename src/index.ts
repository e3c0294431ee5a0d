/**
 * The Worker: the stateless Hono front (`src/proposer/`), which forwards each ledger's appends to
 * its coordinator Durable Object (`src/coordinator/`, the ledger's one proposer), and the acceptor
 * Durable Object class (`src/acceptor/`). The consensus and ledger rules live in the pure core (`src/core/`).
 */
import { createApp } from "./proposer/app.js";

export { LedgerAcceptor } from "./acceptor/ledger-acceptor.js";
export { LedgerCoordinator } from "./coordinator/ledger-coordinator.js";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
