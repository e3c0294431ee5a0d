// Seeded fault scenarios 1501..2000 (one file per 500 seeds, so that the two cores share them).
import { describeSeedRange } from "./seeds.js";

await describeSeedRange(1501, 500);
