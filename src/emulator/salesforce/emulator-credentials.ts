/** What the emulated org accepts at its token endpoint. */
export interface EmulatorCredentials {
  /** Connected app consumer key (the JWT's `iss`). */
  clientId: string;
  clientSecret: string;
  /** The integration user (the JWT's `sub`). */
  username: string;
  password: string;
  /** Appended to the password in the password flow. */
  securityToken: string;
  /** PEM public key or certificate verifying JWT bearer assertions; without it the jwt flow is refused. */
  jwtPublicKey?: string;
}

/** Credentials local mode uses for both the emulator and the client pointed at it. */
export const DEFAULT_EMULATOR_CREDENTIALS: EmulatorCredentials = {
  clientId: "3MVG9emulator.local.client.id",
  clientSecret: "emulator-client-secret",
  username: "integration@stripe-sync.local",
  password: "emulator-password",
  securityToken: "EMULATORTOKEN",
};
