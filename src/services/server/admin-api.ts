import type { IncomingMessage, ServerResponse } from "node:http";
import { limits } from "../../kernel/limits.js";
import type { Deployment, DeployOutcome } from "../realm/deployment.js";
import type { RealmService } from "../realm/realm-service.js";
import type { RealmClients } from "./realm-clients.js";
import type { RealmAccess } from "./realm-access.js";

/** What the admin port serves from; the realm parts are null on a server without a realm role. */
export interface AdminContext {
  status(): unknown;
  readonly access: RealmAccess;
  readonly realm: { readonly service: RealmService; readonly clients: RealmClients; readonly deployment: Deployment; readonly affiliated: () => unknown } | null;
}

const routes = "GET /api/v1/status, GET /api/v1/realm, GET /api/v1/realm/clients, GET /api/v1/realm/revisions, GET /api/v1/realm/revisions/<n>, POST /api/v1/realm/deployments";

/**
 * The admin port's REST API (JSON). Reads are open on the admin port (it should listen on a
 * management network); a deploy needs HTTP basic authentication of a user with the `admin`
 * action. Every refusal names what was wrong and what was expected.
 */
export async function handleAdmin(context: AdminContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const method = request.method ?? "?";
  const url = (request.url ?? "/").split("?")[0] ?? "/";
  if (method === "GET" && url === "/api/v1/status") return send(response, 200, context.status());
  if (url.startsWith("/api/v1/realm")) {
    const realm = context.realm;
    if (realm === null) return send(response, 404, { error: "this server has no realm role (servers[].realmService in the realm definition): no realm service to ask" });
    if (method === "GET" && url === "/api/v1/realm") return send(response, 200, realm.affiliated());
    if (method === "GET" && url === "/api/v1/realm/clients") return send(response, 200, { server: realm.service.status().server, clients: realm.clients.reports() });
    if (method === "GET" && url === "/api/v1/realm/revisions") return send(response, 200, { revisions: realm.service.status().history });
    const revisionMatch = /^\/api\/v1\/realm\/revisions\/(\d+)$/.exec(url);
    if (method === "GET" && revisionMatch) {
      // A definition's text holds the realm and cluster secrets and password hashes: admins only.
      const refusal = await adminRefusal(context, request);
      if (refusal !== null) return send(response, refusal.status, refusal.body, refusal.headers);
      const revision = realm.service.revision(Number(revisionMatch[1]));
      if (revision === null) return send(response, 404, { error: `no revision ${revisionMatch[1]} is kept here; kept: ${realm.service.status().history.map((kept) => kept.number).join(", ") || "none"}` });
      return send(response, 200, revision);
    }
    if (method === "POST" && url === "/api/v1/realm/deployments") return deploy(context, realm, request, response);
  }
  send(response, 404, { error: `no such resource ${method} ${url}; try ${routes}` });
}

async function deploy(context: AdminContext, realm: NonNullable<AdminContext["realm"]>, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const write = realm.service.admitWrite();
  if (!write.admitted) return send(response, 409, { ok: false, code: "not-primary", message: write.reason, primary: write.primary });
  const refusal = await adminRefusal(context, request);
  if (refusal !== null) return send(response, refusal.status, refusal.body, refusal.headers);
  const body = await readBody(request, limits.realmDefinitionCharactersMax * 2);
  if (!body.ok) return send(response, 413, { ok: false, code: "too-large", message: body.error });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.text);
  } catch (error) {
    return send(response, 400, { ok: false, code: "malformed", message: `expected a JSON body { "text": "<definition>", "dryRun": false, "force": false } or { "revision": <n> }: ${(error as Error).message}` });
  }
  const fields = (parsed ?? {}) as Record<string, unknown>;
  let text: string;
  if (typeof fields.revision === "number") {
    const earlier = realm.service.revision(fields.revision);
    if (earlier === null) return send(response, 404, { ok: false, code: "unknown-revision", message: `no revision ${fields.revision} is kept here; kept: ${realm.service.status().history.map((kept) => kept.number).join(", ")}` });
    text = earlier.text;
  } else if (typeof fields.text === "string") {
    text = fields.text;
  } else {
    return send(response, 400, { ok: false, code: "malformed", message: "expected `text` (the definition, a string) or `revision` (a kept revision's number, to deploy again)" });
  }
  for (const flag of ["dryRun", "force"] as const) {
    if (fields[flag] !== undefined && typeof fields[flag] !== "boolean") return send(response, 400, { ok: false, code: "malformed", message: `${flag}: expected true or false, found ${JSON.stringify(fields[flag])}` });
  }
  const outcome = await realm.deployment.deploy({ text, dryRun: fields.dryRun === true, force: fields.force === true });
  send(response, statusOf(outcome), outcome);
}

interface Refusal {
  readonly status: number;
  readonly body: { readonly ok: false; readonly code: string; readonly message: string; readonly retryAfterMs?: number };
  readonly headers: Record<string, string>;
}

const challenge = { "www-authenticate": 'Basic realm="holdfast"' };

/**
 * Null when the request carries basic credentials of a user with the admin action; else the
 * answer: 401 for missing or wrong credentials, 403 for a user without the admin action, 429
 * for a source backed off after failed logins (or with too many logins being checked at once)
 * and 503 while the server checks as many passwords as it can (both with Retry-After). The check goes through the server's password
 * checks, with their budgets per source address, so a flood from one address cannot lock the
 * real operator out from another.
 */
async function adminRefusal(context: AdminContext, request: IncomingMessage): Promise<Refusal | null> {
  const credentials = basicCredentials(request.headers.authorization);
  if (credentials === null) {
    const message = "this needs HTTP basic authentication of a user with the admin action";
    return { status: 401, body: { ok: false, code: "unauthenticated", message }, headers: challenge };
  }
  const result = await context.access.authenticateAdmin(credentials.user, credentials.password, request.socket.remoteAddress ?? "?");
  if (result.ok) return null;
  const retryAfterMs = result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs };
  const body = { ok: false as const, code: result.code, message: result.message, ...retryAfterMs };
  const retryAfter = { "retry-after": String(Math.max(1, Math.ceil((result.retryAfterMs ?? 1000) / 1000))) };
  // 429 for what this source did (too many failures, or too many checks at once), 503 for load.
  if (result.code === "backed-off" || (result.code === "busy" && result.scope === "source")) return { status: 429, body, headers: retryAfter };
  if (result.code === "busy") return { status: 503, body, headers: retryAfter };
  if (result.code === "forbidden") return { status: 403, body, headers: {} };
  return { status: 401, body, headers: challenge };
}

function statusOf(outcome: DeployOutcome): number {
  if (outcome.ok) return outcome.dryRun || outcome.unchanged ? 200 : 201;
  return outcome.code === "invalid" ? 422 : outcome.code === "too-large" ? 413 : 409;
}

function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  if (header === undefined || !header.startsWith("Basic ")) return null;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function readBody(request: IncomingMessage, bytesMax: number): Promise<{ ok: true; text: string } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    request.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > bytesMax) {
        // Keep reading (and dropping) so the 413 answer reaches the client.
        if (chunks.length > 0) chunks.length = 0;
        resolve({ ok: false, error: `a body of at most ${bytesMax} bytes` });
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve({ ok: true, text: Buffer.concat(chunks).toString("utf8") }));
    request.on("error", (error) => resolve({ ok: false, error: error.message }));
  });
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent) return;
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}
