/** Test support: fast-check arbitraries for messages. Imported only by tests. */
import fc from "fast-check";
import { elementTypes, int64Max, int64Min, type ElementType, type ElementValue, type Message, type Value } from "./message.js";

export const arbitraryFieldName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,11}$/);

const int64 = fc.bigInt({ min: int64Min, max: int64Max });

function arbitraryElement(type: ElementType, depth: number): fc.Arbitrary<ElementValue> {
  switch (type) {
    case "string":
      return fc.string({ unit: "grapheme", maxLength: 12 }).map((value) => ({ type, value }));
    case "int":
      return int64.map((value) => ({ type, value }));
    case "float":
      return fc.double().map((value) => ({ type, value }));
    case "bool":
      return fc.boolean().map((value) => ({ type, value }));
    case "bytes":
      return fc.uint8Array({ maxLength: 12 }).map((value) => ({ type, value }));
    case "timestamp":
      return int64.map((value) => ({ type, value }));
    case "message":
      return arbitraryMessage(depth + 1).map((value) => ({ type, value }));
  }
}

function arbitraryValue(depth: number): fc.Arbitrary<Value> {
  const types = depth >= 3 ? elementTypes.filter((type) => type !== "message") : elementTypes;
  const elementType = fc.constantFrom(...types);
  return fc.oneof(
    { weight: 4, arbitrary: elementType.chain((type) => arbitraryElement(type, depth)) },
    {
      weight: 1,
      arbitrary: elementType.chain((type) =>
        fc.array(arbitraryElement(type, depth), { maxLength: 4 }).map((values): Value => ({ type: "array", elementType: type, values })),
      ),
    },
  );
}

export function arbitraryMessage(depth = 1): fc.Arbitrary<Message> {
  return fc
    .uniqueArray(fc.tuple(arbitraryFieldName, arbitraryValue(depth)), { selector: ([name]) => name, maxLength: depth === 1 ? 6 : 3 })
    .map((entries) => new Map(entries));
}
