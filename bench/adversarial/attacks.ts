/**
 * The attacks of `npm run bench -- adversarial`, each the same attack as its test in
 * testing/adversarial/ (and built from the same helpers), repeated in rounds until its phase's
 * deadline or its own end, whichever comes first. Each attack comes from loopback addresses of
 * its own (127.0.0.2 and up), never from 127.0.0.1, the publisher's: an address the attacker
 * got backed off must not be the real user's. `prepare` builds what the attack sends before
 * the phase starts, so that building it is not measured.
 */
import fc from "fast-check";
import { Packr } from "msgpackr";
import { connect } from "../../src/client/client.js";
import { limits } from "../../src/kernel/limits.js";
import { partialFrames, wrongAdminLogins, wrongHellos } from "../../testing/adversarial/attacks.js";
import { brokenFrames, hostileRequests, packHostile } from "../../testing/adversarial/hostile-requests.js";
import { operatorCredentials, publisherCredentials, type LoneServer } from "../../testing/adversarial/lone-server.js";
import { sleep } from "../../testing/adversarial/publish-loop.js";
import { RawClient } from "../../testing/adversarial/raw-client.js";
import { SessionProbe } from "../../testing/adversarial/session-probe.js";
import { waitFor } from "../../testing/process/wait-for.js";
import { percentile } from "../stats.js";

/** Runs the attack until `deadlineMs` (Date.now) or its own end; says what it did and what the server answered. */
export type AttackRun = (deadlineMs: number) => Promise<string>;

export interface Attack {
  readonly name: string;
  prepare(server: LoneServer): Promise<AttackRun> | AttackRun;
}

/** Rounds of one attack in one phase, at most (each is bounded in time as well). */
const roundsMax = 200;
const revisionPath = "/api/v1/realm/revisions/1";
const sources = (first: number, count: number): string[] => Array.from({ length: count }, (_, n) => `127.0.0.${first + n}`);

/** `{"code": count}` of what each connection or request was told. */
function tally(codes: readonly (string | number | undefined)[]): string {
  const counts: Record<string, number> = {};
  for (const code of codes) counts[String(code ?? "none")] = (counts[String(code ?? "none")] ?? 0) + 1;
  return JSON.stringify(counts);
}

const idleSockets: Attack = {
  name: "idle-sockets",
  // 4,200 sockets that never say hello, spread over enough addresses to pass the server-wide cap as well.
  prepare: (server) => async (deadlineMs) => {
    const from = sources(2, Math.ceil((limits.unauthenticatedConnectionsMax + 1) / limits.unauthenticatedConnectionsPerAddressMax));
    const total = 4200;
    const codes: (string | undefined)[] = [];
    let rounds = 0;
    do {
      const sockets: RawClient[] = [];
      try {
        for (const [at, source] of from.entries()) {
          const share = Math.floor((total * (at + 1)) / from.length) - Math.floor((total * at) / from.length);
          sockets.push(...(await RawClient.openMany(server.clientPort, share, source)));
        }
        // The held ones are closed at the hello deadline; allow for connects that waited for a SYN retry.
        await waitFor(() => sockets.every((socket) => socket.isClosed), 2 * limits.helloDeadlineMs + 5000).catch(() => {});
      } finally {
        codes.push(...sockets.map((socket) => socket.refusalCode));
        for (const socket of sockets) socket.close();
      }
      rounds += 1;
    } while (Date.now() < deadlineMs && rounds < roundsMax);
    return `${rounds} round(s) of ${total} sockets from ${from.length} addresses, held until the server closed them: ${tally(codes)}`;
  },
};

const partialFramesAttack: Attack = {
  name: "partial-frames",
  // 40 connections (20 from each of two addresses) sending all but the last byte of a 16 MiB frame.
  prepare: (server) => async (deadlineMs) => {
    const codes: (string | undefined)[] = [];
    let rounds = 0;
    do {
      const attackers = await partialFrames(server.clientPort, sources(11, 2), 20);
      await sleep(500);
      codes.push(...attackers.map((attacker) => attacker.refusalCode));
      for (const attacker of attackers) attacker.close();
      rounds += 1;
    } while (Date.now() < deadlineMs && rounds < roundsMax);
    return `${rounds} round(s) of 40 connections each sending ${limits.frameBytesMax / 1048576} MiB less a byte: ${tally(codes)}`;
  },
};

const wrongPasswordFlood: Attack = {
  name: "wrong-password-flood",
  // Rounds of 100 wrong hellos at once (25 from each of four addresses) until every address is backed off.
  prepare: (server) => async (deadlineMs) => {
    const from = sources(13, 4);
    const codes = new Map<string, (string | undefined)[]>(from.map((source) => [source, []]));
    const backedOff = (): boolean => [...codes.values()].every((refused) => refused.includes("backed-off"));
    let newcomer: Promise<number> | undefined;
    let rounds = 0;
    while (!backedOff() && Date.now() < deadlineMs && rounds < roundsMax) {
      const round = Promise.all(from.map((source) => wrongHellos(server.clientPort, 25, source, publisherCredentials)));
      newcomer ??= timedLogin(server);
      (await round).forEach((refused, at) => codes.get(from[at] as string)?.push(...refused));
      rounds += 1;
    }
    const loginMs = newcomer === undefined ? Number.NaN : await newcomer;
    const until = backedOff() ? "until every address was backed off" : "cut at the deadline";
    const newcomerSaw = `a new login of the real user during the flood took ${Math.round(loginMs)} ms`;
    return `${rounds} round(s) of 100 wrong hellos, ${until}: ${tally([...codes.values()].flat())}; ${newcomerSaw}`;
  },
};

/** How long the real user's login takes (a connect with the client library); NaN when it failed. */
async function timedLogin(server: LoneServer): Promise<number> {
  const started = performance.now();
  const connection = await connect({ servers: [server.clientAddress], ...publisherCredentials, requestTimeoutMs: 10_000 }).catch(() => null);
  connection?.close();
  return connection === null ? Number.NaN : performance.now() - started;
}

const adminLoginFlood: Attack = {
  name: "admin-login-flood",
  // Four rounds of 100 wrong admin logins at once from one address; the operator logs in from another meanwhile.
  prepare: (server) => async (deadlineMs) => {
    const flood: number[] = [];
    const operator: number[] = [];
    const operatorMs: number[] = [];
    let rounds = 0;
    while (rounds < 4 && Date.now() < deadlineMs) {
      const answers = wrongAdminLogins(server, revisionPath, 100, operatorCredentials.user, "127.0.0.17");
      const started = performance.now();
      operator.push((await server.admin("GET", revisionPath, { credentials: operatorCredentials, localAddress: "127.0.0.18" })).status);
      operatorMs.push(performance.now() - started);
      flood.push(...(await answers).map((answer) => answer.status));
      rounds += 1;
    }
    const operatorSaw = `HTTP ${tally(operator)}, at most ${Math.round(Math.max(...operatorMs))} ms`;
    return `${rounds} round(s) of 100 wrong admin logins: HTTP ${tally(flood)}; the operator meanwhile: ${operatorSaw}`;
  },
};

/** The seed of the hostile cases: the same requests every run. */
const hostileSeed = 20261204;

const hostileRequestsAttack: Attack = {
  name: "hostile-requests",
  // The live fuzz's cases (one to five hostile requests on a logged-in session, then a broken
  // frame on a connection of its own), each request followed by a ping whose answer is awaited.
  prepare: (server) => {
    const requests = fc.array(hostileRequests(publisherCredentials), { minLength: 1, maxLength: 5 });
    const cases = fc.sample(fc.tuple(requests, brokenFrames, fc.boolean()), { numRuns: 60, seed: hostileSeed });
    const packr = new Packr({ useRecords: false });
    return async (deadlineMs) => {
      const closings: (string | undefined)[] = [];
      let frames = 0;
      let refusedLogins = 0;
      let run = 0;
      for (; Date.now() < deadlineMs && run < roundsMax * 10; run += 1) {
        const [requests, broken, authenticated] = cases[run % cases.length] as (typeof cases)[number];
        // A hostile hello may carry a wrong password: spread those failures over several addresses.
        const source = `127.0.0.${20 + (run % 16)}`;
        const attacker = await SessionProbe.open(server.clientAddress, publisherCredentials, source).catch(() => null);
        if (attacker === null) {
          refusedLogins += 1;
          continue;
        }
        for (const [index, request] of requests.entries()) {
          if (attacker.closeReason !== null) break;
          attacker.send(packHostile(request, 1_000 + index));
          const probeId = Number.MAX_SAFE_INTEGER - index;
          attacker.send(packr.pack({ type: "ping", requestId: probeId }));
          await attacker.answer(probeId);
          frames += 1;
        }
        attacker.close();
        const breaker = await SessionProbe.open(server.clientAddress, authenticated ? publisherCredentials : null, source).catch(() => null);
        if (breaker === null) continue;
        breaker.sendBytes(broken.bytes);
        frames += 1;
        if (broken.code !== null) await breaker.closed().catch(() => {});
        closings.push(breaker.closing?.code);
        breaker.close();
      }
      const what = `${run} case(s) (fast-check seed ${hostileSeed}, ${cases.length} cases cycled): ${frames} hostile frames`;
      return `${what}; broken frames closed with ${tally(closings)}; ${refusedLogins} logins refused`;
    };
  },
};
const bigDefinition: Attack = {
  name: "big-definition",
  // Dry-run deploys, one after another, of the server's own definition followed by 110,000 unknown keys (about 1 MB).
  prepare: (server) => {
    const text = `${server.definitionText}${Array.from({ length: 110_000 }, (_, index) => `k${index}: 0`).join("\n")}\n`;
    return async (deadlineMs) => {
      const statuses: number[] = [];
      const answerMs: number[] = [];
      while (Date.now() < deadlineMs && statuses.length < roundsMax) {
        const started = performance.now();
        const body = { text, dryRun: true };
        const answer = await server.admin("POST", "/api/v1/realm/deployments", { credentials: operatorCredentials, localAddress: "127.0.0.50", body });
        answerMs.push(performance.now() - started);
        statuses.push(answer.status);
      }
      answerMs.sort((a, b) => a - b);
      const times = `p50 ${Math.round(percentile(answerMs, 0.5))} ms, max ${Math.round(answerMs.at(-1) ?? Number.NaN)} ms`;
      return `${statuses.length} dry-run deploy(s) of ${(text.length / 1e6).toFixed(2)} MB: HTTP ${tally(statuses)}, answered in ${times}`;
    };
  },
};

/** In the order they run: partial frames first, so that its memory is not another attack's leftovers. */
export const attacks: readonly Attack[] = [partialFramesAttack, idleSockets, wrongPasswordFlood, adminLoginFlood, hostileRequestsAttack, bigDefinition];
