export {
  startSalesforceEmulator,
  type SalesforceEmulator,
  type SalesforceEmulatorOptions,
} from "./salesforce-emulator.js";
export { DEFAULT_EMULATOR_CREDENTIALS, type EmulatorCredentials } from "./emulator-credentials.js";
export type { EmulatorFault } from "./faults.js";
export type { EmulatorStatsSnapshot } from "./emulator-stats.js";
