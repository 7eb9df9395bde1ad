import { Option } from "commander";
import { logLevels } from "../adapters/node/logger.js";

/** `--log-level` of the commands that run servers: what their JSON log lines on stderr include. */
export function logLevelOption(): Option {
  return new Option("--log-level <level>", "the lowest level logged (JSON lines on stderr)").choices(logLevels).default("info").env("HOLDFAST_LOG_LEVEL");
}
