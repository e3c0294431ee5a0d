export * from "./proposer/index.js";
