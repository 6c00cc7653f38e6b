import { expect } from "chai";
import { Redis } from "ioredis";
import { RedisTokenCache, tokenCacheKey } from "../../src/data-access/salesforce/token-cache.js";
import type { SalesforceEmulator } from "../../src/emulator/salesforce/index.js";
import { startRedisServer, type RedisServer } from "../support/redis-server.js";
import {
  clientCredentialsAuth,
  createClient,
  credentials,
  customer,
  startEmulator,
} from "./salesforce-test-kit.js";
import { upsert } from "./salesforce-test-kit.js";

describe("Salesforce token shared through Redis", () => {
  let emulator: SalesforceEmulator;
  let redisServer: RedisServer;
  const connections: Redis[] = [];
  const connect = () => {
    const redis = new Redis(redisServer.url);
    connections.push(redis);
    return redis;
  };

  before(async () => {
    [emulator, redisServer] = await Promise.all([startEmulator(), startRedisServer()]);
  });
  after(async () => {
    for (const redis of connections) redis.disconnect();
    await Promise.all([emulator.stop(), redisServer.stop()]);
  });
  beforeEach(async () => {
    emulator.reset();
    await connect().flushall();
  });

  const key = () => tokenCacheKey(emulator.url, credentials.clientId);

  it("three workers with their own caches starting at once make one token request", async () => {
    const clients = [1, 2, 3].map(
      () =>
        createClient(emulator, { tokenCache: new RedisTokenCache({ redis: connect(), key: key() }) }).client,
    );
    const results = await Promise.all(
      clients.map((client, i) =>
        upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [customer(`cus_${i}`)]),
      ),
    );
    expect(results.flat().every((r) => r.success)).to.equal(true);
    expect(emulator.stats().tokenRequests.total).to.equal(1);
  });

  it("a 401 replaces the shared token once, and a stale 401 does not throw away the fresh token", async () => {
    const redis = connect();
    const first = createClient(emulator, { tokenCache: new RedisTokenCache({ redis, key: key() }) }).client;
    const second = createClient(emulator, {
      tokenCache: new RedisTokenCache({ redis: connect(), key: key() }),
    }).client;
    await upsert(first, "Stripe_Customer__c", "Stripe_Customer_Id__c", [customer("cus_1")]);
    await upsert(second, "Stripe_Customer__c", "Stripe_Customer_Id__c", [customer("cus_2")]);
    const staleToken = JSON.parse((await redis.get(key())) ?? "{}").accessToken as string;
    emulator.faults.add({ type: "expire_sessions" });
    await upsert(first, "Stripe_Customer__c", "Stripe_Customer_Id__c", [customer("cus_3")]);
    const freshToken = JSON.parse((await redis.get(key())) ?? "{}").accessToken as string;
    expect(freshToken).to.not.equal(staleToken);
    // The second worker still holds the old token: its 401 must reuse the fresh one, not fetch again.
    await upsert(second, "Stripe_Customer__c", "Stripe_Customer_Id__c", [customer("cus_4")]);
    expect(emulator.stats().tokenRequests.total).to.equal(2);
    expect(JSON.parse((await redis.get(key())) ?? "{}").accessToken).to.equal(freshToken);
  });

  it("the token is kept with a TTL and a lock holder that fails lets the next worker try", async () => {
    const redis = connect();
    const cache = new RedisTokenCache({ redis, key: key(), ttlSeconds: 120 });
    const failure = await cache
      .getToken(async () => {
        throw new Error("login down");
      })
      .catch((error: unknown) => error);
    expect(failure).to.have.property("message", "login down");
    expect(await redis.exists(`${key()}:lock`)).to.equal(0);
    const { client } = createClient(emulator, { tokenCache: cache, auth: clientCredentialsAuth(emulator) });
    await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [customer("cus_ttl")]);
    const ttl = await redis.ttl(key());
    expect(ttl).to.be.within(1, 120);
  });
});
