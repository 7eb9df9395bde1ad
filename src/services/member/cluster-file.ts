import { readFileSync } from "node:fs";
import { z } from "zod";
import { limits } from "../../kernel/limits.js";

/**
 * The definition of one consensus cluster of member processes (until realm definitions in
 * YAML arrive, this JSON file is what every member reads). Errors name the path and what was
 * expected.
 */
const memberSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "lower-case letters, digits and dashes"),
  weight: z.number().int().min(1).max(1000).default(1),
  host: z.string().min(1).default("127.0.0.1"),
  peerPort: z.number().int().min(1).max(65535),
  clientPort: z.number().int().min(1).max(65535),
});

const clusterSchema = z
  .object({
    name: z.string().min(1),
    secret: z.string().min(8, "at least 8 characters"),
    members: z.array(memberSchema).min(1).max(limits.membersMax),
    timing: z
      .object({
        heartbeatIntervalMs: z.number().int().positive(),
        electionTimeoutMinMs: z.number().int().positive(),
        electionTimeoutMaxMs: z.number().int().positive(),
        leaderLeaseMs: z.number().int().positive(),
      })
      .partial()
      .default({}),
  })
  .superRefine((cluster, context) => {
    const seen = new Set<string>();
    cluster.members.forEach((member, index) => {
      if (seen.has(member.id)) context.addIssue({ code: "custom", path: ["members", index, "id"], message: `duplicate member id "${member.id}"` });
      seen.add(member.id);
    });
  });

export type ClusterFile = z.infer<typeof clusterSchema>;
export type ClusterMemberFile = z.infer<typeof memberSchema>;

export class ClusterFileError extends Error {
  override name = "ClusterFileError";
}

export function parseClusterFile(value: unknown, source = "cluster file"): ClusterFile {
  const result = clusterSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  ${issue.path.join(".") || "(top)"}: ${issue.message}`);
  throw new ClusterFileError(`${source} is invalid:\n${problems.join("\n")}`);
}

export function readClusterFile(path: string): ClusterFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ClusterFileError(`cannot read cluster file ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ClusterFileError(`cluster file ${path} is not JSON: ${(error as Error).message}`);
  }
  return parseClusterFile(json, `cluster file ${path}`);
}
