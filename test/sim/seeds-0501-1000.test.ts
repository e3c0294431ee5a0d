// Seeded fault scenarios 501..1000 (one file per 500 seeds, so that the two cores share them).
import { describeSeedRange } from "./seeds.js";

await describeSeedRange(501, 500);
