import type { FamilyMember } from "../family.js";

/** The family of src/realm/testdata/family-realm.yaml (store1 has no role, so it is not here). */
export const familyMembers: readonly FamilyMember[] = [
  { name: "p1", role: "primary" },
  { name: "p1-backup", role: "backup", of: "p1" },
  { name: "sat1", role: "satellite", of: "p1" },
  { name: "sat1-backup", role: "backup", of: "sat1" },
  { name: "sat2", role: "satellite", of: "p1" },
  { name: "dr1", role: "disaster-recovery", of: "p1" },
];
