import { expect, it } from "vitest";
import { natsMessageBytes, natsPayload, natsPayloadId } from "./nats-payload.js";

it("a NATS payload is 128 bytes and carries its id", () => {
  const payload = natsPayload(123_456_789);
  expect(payload.length).toBe(natsMessageBytes);
  expect(natsPayloadId(payload)).toBe(123_456_789);
  expect(natsPayloadId(natsPayload(1).subarray(0))).toBe(1);
});
