import { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import { acceptorStoreSuite } from "./acceptor-store-suite.js";

acceptorStoreSuite("MemoryAcceptorStore", () => new MemoryAcceptorStore());
