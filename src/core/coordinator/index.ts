/** The coordinator design (issue #12): what the coordinator answers, how a Worker forwards, where it lives. */

export { type AppendAnswer, answerOf, type CoordinatorAnswer, type SyncAnswer, unwrapAnswer } from "./answer.js";
export {
  type CoordinatorLink,
  coordinator_answer_margin_ms,
  coordinator_proposer_options,
  type ForwardEnv,
  forwardAppend,
  forwardSync,
  forwardWait_ms,
} from "./forward.js";
export { coordinatorRegionFor, forwardedRatio } from "./placement.js";
