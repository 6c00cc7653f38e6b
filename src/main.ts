#!/usr/bin/env node
// The program's entry: checks the Node.js version before importing anything else, since the rest
// (the AWS SDK, undici, Koa 3) fails on older versions with errors that do not say why. Kept free of
// static imports and of syntax older Node.js versions cannot parse.

/** The Node.js major version the service runs on, as package.json's `engines` says. */
const REQUIRED_NODE_MAJOR = 24;

const running = Number(process.versions.node.split(".")[0]);
if (running !== REQUIRED_NODE_MAJOR) {
  process.stderr.write(
    `stripe-salesforce-sync needs Node.js ${REQUIRED_NODE_MAJOR}, this is Node.js ${process.version}: ` +
      `run it with \`npm start\` (which installs Node.js ${REQUIRED_NODE_MAJOR} on first use) ` +
      `or switch to Node.js ${REQUIRED_NODE_MAJOR} (e.g. \`nvm install ${REQUIRED_NODE_MAJOR}\`)\n`,
  );
  process.exit(1);
} else {
  await import("./cli/cli-main.js");
}
