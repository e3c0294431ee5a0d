// Seeded fault scenarios 1..500; the ranges are split across files to use both cores.
import { describeSeedRange } from "./seeds.js";

await describeSeedRange(1, 500);
