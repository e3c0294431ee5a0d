// Seeded fault scenarios 1001..1500 (one file per 500 seeds, so that the two cores share them).
import { describeSeedRange } from "./seeds.js";

await describeSeedRange(1001, 500);
