// Seeded fault scenarios 1501..2000; the ranges are split across files to use both cores.
import { describeSeedRange } from "./seeds.js";

await describeSeedRange(1501, 500);
