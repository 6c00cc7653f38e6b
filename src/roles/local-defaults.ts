/**
 * Settings local mode (NODE_ENV other than production) falls back to when nothing is configured.
 * None of them is used in production, where a missing setting stops start-up.
 */

/** The webhook signing secret local mode accepts when STRIPE_WEBHOOK_SECRET is unset. Not a secret. */
export const LOCAL_WEBHOOK_SECRET = "whsec_local_stripe_salesforce_sync";

/** Port of the Salesforce emulator local mode starts when SALESFORCE_LOGIN_URL is unset. */
export const LOCAL_SALESFORCE_EMULATOR_PORT = 8085;
