// Seeded fault scenarios 501..1000; the ranges are split across files to use both cores.
import { describeSeedRange } from "./seeds.js";

await describeSeedRange(501, 500);
