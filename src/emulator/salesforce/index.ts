export {
  startSalesforceEmulator,
  type SalesforceEmulator,
  type SalesforceEmulatorOptions,
} from "./salesforce-emulator.js";
export { DEFAULT_EMULATOR_CREDENTIALS, type EmulatorCredentials } from "./emulator-credentials.js";
export type { EmulatorFault, FaultOperation } from "./faults.js";
export type { ArmedFault } from "./fault-injector.js";
export type { EmulatorStatsSnapshot } from "./emulator-stats.js";
export type { WriteEntry, WriteSource } from "./write-history.js";
export type { FieldAccess, SchemaChange } from "./org-schema.js";
