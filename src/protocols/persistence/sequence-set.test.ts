import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SequenceSet } from "./sequence-set.js";

describe("sequence set", () => {
  it("iterates the sequences after a given one, ascending and bounded", () => {
    const set = SequenceSet.from([1, 2, 5, 9, 10]);
    set.delete(5);
    expect(set.after(1, 10)).toEqual([2, 9, 10]);
    expect(set.after(2, 2)).toEqual([9, 10]);
    expect(set.after(10, 10)).toEqual([]);
    expect(set.first()).toBe(1);
    expect(set.size).toBe(4);
  });

  it("refuses sequences that do not ascend, even after the highest one was deleted", () => {
    const set = SequenceSet.from([3]);
    set.delete(3);
    expect(() => set.add(3)).toThrow(/added after 3/);
    set.add(4);
    expect(set.toArray()).toEqual([4]);
  });

  it("behaves like a sorted list under random adds and deletes (compaction included)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("add", "delete", "after"), fc.nat(400), fc.integer({ min: 1, max: 50 })), { maxLength: 600 }), (operations) => {
        const set = new SequenceSet();
        const model: number[] = [];
        let last = 0;
        for (const [operation, value, count] of operations) {
          if (operation === "add") {
            last += 1 + (value % 3);
            set.add(last);
            model.push(last);
          } else if (operation === "delete") {
            const target = model.length > 0 && value % 2 === 0 ? (model[value % model.length] as number) : value;
            const index = model.indexOf(target);
            expect(set.delete(target)).toBe(index >= 0);
            if (index >= 0) model.splice(index, 1);
          } else {
            expect(set.after(value, count)).toEqual(model.filter((sequence) => sequence > value).slice(0, count));
          }
          expect(set.size).toBe(model.length);
          expect(set.first()).toBe(model[0]);
        }
        expect(set.toArray()).toEqual(model);
        for (const sequence of model) expect(set.has(sequence)).toBe(true);
      }),
    );
  });
});
