/**
 * The admin port's basic authentication under a flood of wrong logins: the attacking address
 * gets 429 with Retry-After, the real operator still gets in from another address, and a user
 * without the admin action gets 403. Against a real server process (production scrypt cost).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settle } from "../process/wait-for.js";
import { wrongAdminLogins } from "./attacks.js";
import { LoneServer, operatorCredentials, readerCredentials, type AdminAnswer } from "./lone-server.js";

let server: LoneServer;
const revisionPath = "/api/v1/realm/revisions/1";

beforeAll(async () => {
  server = await LoneServer.start();
  // The primary takes its file as revision 1 on its first start.
  await settle(() => server.admin("GET", revisionPath, { credentials: operatorCredentials }), (answer) => answer.status === 200);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe("admin logins", () => {
  it("a flood of wrong logins gets 429 with Retry-After, and the real operator still gets in from another address", async () => {
    const answers: AdminAnswer[] = [];
    for (let round = 0; round < 4; round += 1) {
      const flood = wrongAdminLogins(server, revisionPath, 100, operatorCredentials.user);
      // The operator logs in from 127.0.0.2 while the flood from 127.0.0.1 is in flight.
      const operator = server.admin("GET", revisionPath, { credentials: operatorCredentials, localAddress: "127.0.0.2" });
      answers.push(...(await flood));
      expect((await operator).status).toBe(200);
    }
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([401, 429]));
    // 429: too many checks from this address at once (busy), then too many failures (backed-off).
    const tooMany = answers.filter((answer) => answer.status === 429);
    for (const answer of tooMany) expect(Number(answer.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(new Set(tooMany.map((answer) => answer.body.code))).toEqual(new Set(["busy", "backed-off"]));
    // Once backed off, the attacker is refused without a check: the last round got no 401.
    expect(answers.slice(-100).filter((answer) => answer.status === 401)).toEqual([]);
    const wrong = answers.find((answer) => answer.status === 401);
    expect(wrong?.body.code).toBe("unauthenticated");
    expect(wrong?.headers["www-authenticate"]).toBe('Basic realm="holdfast"');
    expect(server.running).toBe(true);
  });

  it("a user with the right password but without the admin action gets 403", async () => {
    const answer = await server.admin("GET", revisionPath, { credentials: readerCredentials, localAddress: "127.0.0.3" });
    expect(answer.status).toBe(403);
    expect(answer.body.code).toBe("forbidden");
  });
});
