// Seeded fault scenarios 1..500 (one file per 500 seeds, so that the two cores share them).
import { describeSeedRange } from "./seeds.js";

await describeSeedRange(1, 500);
