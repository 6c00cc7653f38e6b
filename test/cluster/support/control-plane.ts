import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { request as httpRequest } from "node:http";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../support/child-server.js";
import { repoRoot } from "../../chart/support/helm.js";
import { bridge, endpoint } from "./socket-bridge.js";
import type { ClusterTools } from "./tools.js";

/** A real control plane on loopback: etcd, kube-apiserver, controller-manager, scheduler, kwok and KEDA. */
export interface ControlPlane {
  /** Working directory: certificates, kubeconfig, etcd data and one log file per process. */
  dir: string;
  kubeconfig: string;
  /** Runs kubectl against the control plane; throws with its stderr on failure. */
  kubectl(args: string[], input?: string): string;
  /** Same, without throwing. */
  tryKubectl(args: string[], input?: string): { status: number; stdout: string; stderr: string };
  /** KEDA operator's Prometheus endpoint (loopback). */
  kedaMetricsUrl: string;
  /** Whether KEDA's metrics API server answers behind the external.metrics.k8s.io APIService. */
  externalMetrics: { available: boolean; detail: string };
  /** Seconds each start-up step took. */
  timings: [string, number][];
  /** The end of a process's log, for failure messages. */
  logTail(name: string, lines?: number): string;
  stop(): Promise<void>;
}

interface Started {
  name: string;
  child: ChildProcess;
  group: boolean;
}

const bridgeScript = fileURLToPath(new URL("./socket-bridge.ts", import.meta.url));

/** Polls `probe` every `intervalMs` until it is true; throws naming `what` after `timeoutMs`. */
export async function waitUntil(
  probe: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 300_000,
  intervalMs = 500,
): Promise<number> {
  const start = Date.now();
  let lastError = "";
  for (;;) {
    try {
      if (await probe()) return (Date.now() - start) / 1000;
    } catch (error) {
      lastError = (error as Error).message.split("\n")[0] ?? "";
    }
    if (Date.now() - start > timeoutMs) {
      throw new Error(
        `timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError ? `: ${lastError}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** A CA and leaf certificates (EC P-256) made with openssl. */
function makeCertificates(dir: string): void {
  const ca = (name: string, cn: string) =>
    openssl(dir, [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "3", "-subj", `/CN=${cn}`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]); // prettier-ignore
  const leaf = (name: string, signer: string, cn: string, sans: string[]) => {
    openssl(dir, [
      "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`,
    ]); // prettier-ignore
    const ext = [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth,clientAuth",
      ...(sans.length > 0 ? [`subjectAltName=${sans.join(",")}`] : []),
    ].join("\n");
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    openssl(dir, [
      "x509", "-req", "-in", `${name}.csr`, "-CA", `${signer}.crt`, "-CAkey", `${signer}.key`,
      "-CAcreateserial", "-out", `${name}.crt`, "-days", "3", "-extfile", `${name}.ext`,
    ]); // prettier-ignore
  };
  ca("ca", "stripe-salesforce-sync-test-ca");
  leaf("apiserver", "ca", "kube-apiserver", [
    "IP:127.0.0.1",
    "DNS:localhost",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
  ]);
  ca("front-proxy-ca", "front-proxy-ca");
  leaf("front-proxy-client", "front-proxy-ca", "front-proxy-client", []);
  // KEDA: the operator's gRPC metrics service, the adapter's client of it, and the adapter's
  // serving certificate, which the aggregator checks against <service>.<namespace>.svc.
  leaf("keda", "ca", "keda", [
    "IP:127.0.0.1",
    "DNS:localhost",
    "DNS:keda-operator.keda.svc.cluster.local",
    "DNS:keda-operator-metrics-apiserver.keda.svc",
  ]);
  openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sa.key"]);
  openssl(dir, ["ec", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
  mkdirSync(join(dir, "keda-certs"));
  writeFileSync(join(dir, "keda-certs", "ca.crt"), readFileSync(join(dir, "ca.crt")));
  writeFileSync(join(dir, "keda-certs", "tls.crt"), readFileSync(join(dir, "keda.crt")));
  writeFileSync(join(dir, "keda-certs", "tls.key"), readFileSync(join(dir, "keda.key")));
}

function httpsGet(url: string, ca: Buffer, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

/** GET over plain HTTP on loopback. */
export function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

const fakeNodes = ["kwok-node-a", "kwok-node-b"].map((name, i) => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: {
    name,
    annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
    labels: {
      "kubernetes.io/hostname": name,
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
      "topology.kubernetes.io/zone": `zone-${"ab"[i]}`,
      type: "kwok",
    },
  },
  status: {
    allocatable: { cpu: "32", memory: "256Gi", pods: "110" },
    capacity: { cpu: "32", memory: "256Gi", pods: "110" },
  },
}));

/**
 * Starts the whole control plane on loopback, in a fresh temporary directory. Everything listens on
 * 127.0.0.1; KEDA's metrics API server, which also opens a metrics port on all interfaces, runs in a
 * network namespace of its own joined to the host's loopback through Unix sockets.
 */
export async function startControlPlane(tools: ClusterTools): Promise<ControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), "ssc-cluster-"));
  mkdirSync(join(dir, "logs"));
  const started: Started[] = [];
  const hostBridges: Server[] = [];
  const timings: [string, number][] = [];
  const token = `admin-${Math.random().toString(36).slice(2)}`;
  const stopAll = async () => {
    for (const server of hostBridges) server.close();
    for (const { child, group } of [...started].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) {
        // The leader of a group may be gone while the rest of its group lives on (the bridge in the
        // metrics API server's namespace outlives an adapter that failed to start).
        if (group && child.pid) {
          try {
            process.kill(-child.pid, "SIGKILL");
          } catch {
            // no such group left
          }
        }
        continue;
      }
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      try {
        if (group && child.pid) process.kill(-child.pid, "SIGTERM");
        else child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          if (group && child.pid) process.kill(-child.pid, "SIGKILL");
          else child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  // A crashed test run must not leave the control plane behind.
  const onExit = () => {
    for (const { child, group } of started) {
      try {
        if (group && child.pid) process.kill(-child.pid, "SIGKILL");
        else child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  process.once("exit", onExit);

  const launch = (
    name: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
    group = false,
  ) => {
    const log = openSync(join(dir, "logs", `${name}.log`), "a");
    const child = spawn(command, args, {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ["ignore", log, log],
      detached: group,
    });
    closeSync(log);
    // A binary that cannot start shows in its log and in the readiness wait that follows.
    child.on("error", (error) =>
      writeFileSync(join(dir, "logs", `${name}.log`), `${error.message}\n`, { flag: "a" }),
    );
    started.push({ name, child, group });
    return child;
  };
  const logTail = (name: string, lines = 30) => {
    try {
      return readFileSync(join(dir, "logs", `${name}.log`), "utf8")
        .split("\n")
        .slice(-lines)
        .join("\n");
    } catch {
      return "";
    }
  };
  const step = async (what: string, run: () => Promise<void>) => {
    const start = Date.now();
    await run();
    timings.push([what, (Date.now() - start) / 1000]);
  };
  const kubeconfig = join(dir, "admin.kubeconfig");
  const tryKubectl = (args: string[], input?: string) => {
    try {
      const stdout = execFileSync(tools.kubectl, args, {
        env: { ...process.env, KUBECONFIG: kubeconfig },
        input,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        stdio: ["pipe", "pipe", "pipe"],
      });
      return { status: 0, stdout, stderr: "" };
    } catch (error) {
      const e = error as { status?: number; stdout?: string; stderr?: string };
      return { status: e.status ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(error) };
    }
  };
  const kubectl = (args: string[], input?: string) => {
    const result = tryKubectl(args, input);
    if (result.status !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };

  try {
    await step("certificates", async () => makeCertificates(dir));
    const ca = readFileSync(join(dir, "ca.crt"));
    const [
      etcdPort,
      etcdPeerPort,
      apiPort,
      kedaMetricsPort,
      kedaProbePort,
      kedaGrpcPort,
      adapterPort,
      adapterHostPort,
    ] = await Promise.all(Array.from({ length: 8 }, () => freePort()));
    writeFileSync(join(dir, "tokens.csv"), `${token},admin,admin,system:masters\n`);
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          {
            name: "test",
            cluster: { server: `https://127.0.0.1:${apiPort}`, "certificate-authority": join(dir, "ca.crt") },
          },
        ],
        users: [{ name: "admin", user: { token } }],
        contexts: [{ name: "test", context: { cluster: "test", user: "admin" } }],
        "current-context": "test",
      }),
    );

    await step("etcd", async () => {
      launch("etcd", tools.etcd, [
        "--name=ssc",
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=ssc=http://127.0.0.1:${etcdPeerPort}`,
        "--log-level=warn",
      ]);
      await waitUntil(
        async () => (await httpGet(`http://127.0.0.1:${etcdPort}/health`)).status === 200,
        "etcd /health",
        60_000,
      );
    });

    await step("kube-apiserver", async () => {
      const file = (name: string) => join(dir, name);
      launch("kube-apiserver", tools.kubeApiserver, [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${apiPort}`,
        `--tls-cert-file=${file("apiserver.crt")}`,
        `--tls-private-key-file=${file("apiserver.key")}`,
        `--client-ca-file=${file("ca.crt")}`,
        `--token-auth-file=${file("tokens.csv")}`,
        "--authorization-mode=RBAC",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${file("sa.pub")}`,
        `--service-account-signing-key-file=${file("sa.key")}`,
        // Only an allocation range for ClusterIPs: nothing here ever sends traffic to it.
        "--service-cluster-ip-range=10.96.0.0/16",
        "--endpoint-reconciler-type=none",
        `--requestheader-client-ca-file=${file("front-proxy-ca.crt")}`,
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        `--proxy-client-cert-file=${file("front-proxy-client.crt")}`,
        `--proxy-client-key-file=${file("front-proxy-client.key")}`,
        "--profiling=false",
      ]);
      await waitUntil(
        async () => (await httpsGet(`https://127.0.0.1:${apiPort}/readyz`, ca, token)).status === 200,
        `kube-apiserver /readyz (log: ${join(dir, "logs", "kube-apiserver.log")})`,
        180_000,
      );
    });

    await step("controller-manager, scheduler, kwok and two fake nodes", async () => {
      launch("kube-controller-manager", tools.kubeControllerManager, [
        `--kubeconfig=${kubeconfig}`,
        "--leader-elect=false",
        "--secure-port=0",
        "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller",
        `--service-account-private-key-file=${join(dir, "sa.key")}`,
        `--root-ca-file=${join(dir, "ca.crt")}`,
        "--horizontal-pod-autoscaler-sync-period=5s",
        // kwok renews the fake nodes' leases; on a busy machine a renewal can come late, and a node
        // marked NotReady would take its pods' readiness with it.
        "--node-monitor-grace-period=300s",
      ]);
      launch("kube-scheduler", tools.kubeScheduler, [
        `--kubeconfig=${kubeconfig}`,
        "--leader-elect=false",
        "--secure-port=0",
      ]);
      launch("kwok", tools.kwok, [
        `--kubeconfig=${kubeconfig}`,
        ...tools.kwokStages.flatMap((stage) => ["--config", stage]),
        "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        // Fake pod and node addresses: kwok only writes them into status.
        "--cidr=10.244.0.1/16",
        "--node-ip=10.255.0.1",
        "--node-lease-duration-seconds=40",
      ]);
      kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: fakeNodes }));
      await waitUntil(() => {
        const nodes = JSON.parse(kubectl(["get", "nodes", "-o", "json"])) as {
          items: { status?: { conditions?: { type: string; status: string }[] } }[];
        };
        return (
          nodes.items.length === fakeNodes.length &&
          nodes.items.every((n) =>
            n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
          )
        );
      }, "kwok's nodes to be Ready");
      // The controller-manager's ServiceAccount controller works once the default ServiceAccount exists.
      await waitUntil(
        () => tryKubectl(["-n", "default", "get", "serviceaccount", "default"]).status === 0,
        "the default ServiceAccount",
      );
    });

    await step("CRDs (KEDA, prometheus-operator)", async () => {
      kubectl(["apply", "--server-side", ...tools.crds.flatMap((crd) => ["-f", crd])]);
      kubectl(["wait", "--for=condition=Established", "--timeout=120s", "crd", "--all"]);
    });

    await step("KEDA operator", async () => {
      kubectl(["create", "namespace", "keda"]);
      launch(
        "keda-operator",
        tools.kedaOperator,
        [
          `--metrics-bind-address=127.0.0.1:${kedaMetricsPort}`,
          `--health-probe-bind-address=127.0.0.1:${kedaProbePort}`,
          `--metrics-service-bind-address=127.0.0.1:${kedaGrpcPort}`,
          `--cert-dir=${join(dir, "keda-certs")}`,
          "--enable-cert-rotation=false",
          "--leader-elect=false",
          `--ca-dir=${join(dir, "keda-certs")}`,
          "--zap-log-level=info",
        ],
        {
          KUBECONFIG: kubeconfig,
          WATCH_NAMESPACE: "",
          POD_NAMESPACE: "keda",
          KEDA_CLUSTER_OBJECT_NAMESPACE: "keda",
        },
      );
      await waitUntil(
        async () => (await httpGet(`http://127.0.0.1:${kedaProbePort}/readyz`)).status === 200,
        `KEDA operator /readyz (log: ${join(dir, "logs", "keda-operator.log")})`,
        120_000,
      );
    });

    // KEDA's metrics API server (the HPA reads queue depth through it, for 1 -> N and the fallback).
    const externalMetrics = { available: false, detail: "" };
    await step("KEDA metrics API server behind the APIService", async () => {
      const sock = (name: string) => join(dir, `${name}.sock`);
      hostBridges.push(
        await bridge(endpoint(`unix:${sock("api")}`), endpoint(`tcp:127.0.0.1:${apiPort}`)),
        await bridge(endpoint(`unix:${sock("grpc")}`), endpoint(`tcp:127.0.0.1:${kedaGrpcPort}`)),
        await bridge(endpoint(`tcp:127.0.0.1:${adapterHostPort}`), endpoint(`unix:${sock("adapter")}`)),
      );
      const adapterArgs = [
        `--secure-port=${adapterPort}`,
        "--bind-address=127.0.0.1",
        `--tls-cert-file=${join(dir, "keda.crt")}`,
        `--tls-private-key-file=${join(dir, "keda.key")}`,
        `--cert-dir=${join(dir, "keda-certs")}`,
        `--lister-kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        `--metrics-service-address=127.0.0.1:${kedaGrpcPort}`,
        "--zap-log-level=info",
      ];
      // Inside its own network namespace the adapter sees the API server and the operator's gRPC
      // port at the same loopback addresses, through the Unix-socket bridges.
      const script = [
        "set -e",
        "ip link set lo up",
        `"$NODE" --import tsx "$BRIDGE" tcp:127.0.0.1:${apiPort}=unix:${sock("api")} tcp:127.0.0.1:${kedaGrpcPort}=unix:${sock("grpc")} unix:${sock("adapter")}=tcp:127.0.0.1:${adapterPort} > "$READY" &`,
        // The adapter gives up at once when the API server cannot be reached: start it after the bridge.
        'i=0; until grep -q ready "$READY" 2>/dev/null; do i=$((i+1)); [ "$i" -lt 300 ] || exit 1; sleep 0.2; done',
        'exec "$ADAPTER" "$@"',
      ].join("\n");
      launch(
        "keda-adapter",
        "unshare",
        ["--net", "--", "sh", "-c", script, "keda-adapter", ...adapterArgs],
        {
          NODE: process.execPath,
          BRIDGE: bridgeScript,
          ADAPTER: tools.kedaAdapter,
          READY: join(dir, "bridge.ready"),
          KUBECONFIG: kubeconfig,
          WATCH_NAMESPACE: "",
          POD_NAMESPACE: "keda",
          KEDA_CLUSTER_OBJECT_NAMESPACE: "keda",
        },
        true,
      );
      kubectl(
        ["apply", "-f", "-"],
        JSON.stringify({
          apiVersion: "v1",
          kind: "List",
          items: [
            {
              apiVersion: "v1",
              kind: "Service",
              metadata: { name: "keda-operator-metrics-apiserver", namespace: "keda" },
              // No ClusterIP: the aggregator dials localhost, where the bridge listens.
              spec: { type: "ExternalName", externalName: "localhost" },
            },
            {
              apiVersion: "apiregistration.k8s.io/v1",
              kind: "APIService",
              metadata: { name: "v1beta1.external.metrics.k8s.io" },
              spec: {
                group: "external.metrics.k8s.io",
                version: "v1beta1",
                groupPriorityMinimum: 100,
                versionPriority: 100,
                service: {
                  name: "keda-operator-metrics-apiserver",
                  namespace: "keda",
                  port: adapterHostPort,
                },
                caBundle: ca.toString("base64"),
              },
            },
          ],
        }),
      );
      try {
        await waitUntil(
          () => {
            const apiService = JSON.parse(
              kubectl(["get", "apiservice", "v1beta1.external.metrics.k8s.io", "-o", "json"]),
            ) as { status?: { conditions?: { type: string; status: string; message?: string }[] } };
            const available = apiService.status?.conditions?.find((c) => c.type === "Available");
            externalMetrics.detail = available?.message ?? "";
            return available?.status === "True";
          },
          "the external.metrics.k8s.io APIService to be Available",
          120_000,
        );
        externalMetrics.available = true;
        externalMetrics.detail = "KEDA's metrics API server answers behind the APIService (on loopback)";
      } catch (error) {
        externalMetrics.detail = `${(error as Error).message}; adapter log:\n${logTail("keda-adapter", 15)}`;
      }
    });

    return {
      dir,
      kubeconfig,
      kubectl,
      tryKubectl,
      kedaMetricsUrl: `http://127.0.0.1:${kedaMetricsPort}/metrics`,
      externalMetrics,
      timings,
      logTail,
      async stop() {
        await stopAll();
        process.removeListener("exit", onExit);
        if (!process.env.KEEP_CLUSTER_DIR) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    const tails = started.map(({ name }) => `--- ${name}\n${logTail(name, 12)}`).join("\n");
    await stopAll();
    process.removeListener("exit", onExit);
    throw new Error(`${(error as Error).message}\n${tails}\n(logs kept in ${dir})`, { cause: error });
  }
}
