import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { ReadinessCheck } from "../../shared/readiness-check.js";

/** Readiness of the queue: `GetQueueAttributes` must answer for `queueUrl`. */
export function queueReadinessCheck(sqs: SQSClient, queueUrl: string, name = "sqs"): ReadinessCheck {
  return {
    name,
    async check() {
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }), {
        abortSignal: AbortSignal.timeout(1500),
      });
    },
  };
}
