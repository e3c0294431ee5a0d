/**
 * The Worker: the stateless Hono proposer (`src/proposer/`) and the acceptor Durable Object class
 * (`src/acceptor/`). The consensus and ledger rules live in the pure core (`src/core/`).
 */
import { createApp } from "./proposer/app.js";

export { LedgerAcceptor } from "./acceptor/ledger-acceptor.js";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
