// Before `npm start`: give a fresh clone its local secrets by copying .dev.vars.example to .dev.vars
// (git-ignored) when there is none, so the README's curl examples work as printed.
import { copyFileSync, existsSync } from "node:fs";

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("created .dev.vars from .dev.vars.example (development key: see README)");
}
