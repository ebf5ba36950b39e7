import { describe, expect, it } from "vitest";
import type { CheckInOutcome } from "./bindings/CheckInOutcome";
import type { RosterEntry } from "./bindings/RosterEntry";
import { bannerFor, breachText, roomWarning, codeForEnter, toHandOver, formatAge, isStale, looksLikeCode, looksLikeScan, parseAmount, parseRelays, partyBanner, readinessTitle, saleFinality, seatsLeft, serverLabel, setStaleMinutes, staleMinutes, stillToCome, syncSummary } from "./logic";

function entry(code: string, first: string, last: string): RosterEntry {
  return {
    code,
    ticket: `t-${code}`,
    order: "o",
    seat_type: "s",
    seat_type_name: "Conference pass",
    admits: true,
    first_name: first,
    last_name: last,
    email: "",
    company: "",
    attendee_types: [],
    entitlements: [],
    holds: [],
    in_room: null,
    walk_in: false,
    provisional: false,
    withdrawn: false,
    admission: null,
    duplicates: 0,
    prints: 0,
    hand_outs: [],
    id_check: false,
    minor: false,
    preferred_name: null,
    pronouns: null,
    note: null,
    custom: {},
  };
}

describe("the door field on Enter", () => {
  const ada = entry("AB12-CD34", "Ada", "Lovelace");
  const alan = entry("ZZ99-YY88", "Alan", "Turing");

  it("checks in a scanned code that is on the roster, even among other results", () => {
    expect(codeForEnter("ab12-cd34", [alan, ada], 0)).toBe("AB12-CD34");
  });
  it("checks in the only result of a typed name", () => {
    expect(codeForEnter("lovel", [ada], -1)).toBe("AB12-CD34");
  });
  it("checks in the highlighted result when there are several", () => {
    expect(codeForEnter("a", [ada, alan], 1)).toBe("ZZ99-YY88");
  });
  it("does nothing for a name with several results and none highlighted", () => {
    expect(codeForEnter("a", [ada, alan], -1)).toBeNull();
  });
  it("sends an unknown scanned code to the desk core, which answers unknown ticket", () => {
    expect(codeForEnter("QQ11-WW22", [], -1)).toBe("QQ11-WW22");
  });
  it("ignores an empty field", () => {
    expect(codeForEnter("   ", [ada], 0)).toBeNull();
  });
  it("tells codes from names", () => {
    expect(looksLikeCode("AB12-CD34")).toBe(true);
    expect(looksLikeCode("Łódź")).toBe(false);
    expect(looksLikeCode("ada lovelace")).toBe(false);
  });
});

describe("the result banner", () => {
  const admission = { admission: "a1", desk: "d1", gate: "North", at: "2026-11-24T08:12:00Z" };
  it("is green for an admission and says the badge is printing", () => {
    const o: CheckInOutcome = {
      outcome: "admitted",
      entry: entry("AB12-CD34", "Ada", "Lovelace"),
      card: [
        { label: "Ticket", text: "Conference pass", attention: false },
        { label: "Note", text: "Wheelchair user: aisle seat", attention: true },
      ],
      admission,
      overridden: false,
      print: { badge: "queued", job: "j1" },
    };
    const b = bannerFor(o, "d1");
    expect(b.tone).toBe("ok");
    expect(b.title).toContain("Ada Lovelace");
    expect(b.lines).toContain("Badge printing");
    expect(b.lines).toContain("Ticket: Conference pass");
    expect(b.notes).toEqual(["Wheelchair user: aisle seat"]);
  });
  it("says what is still to be handed over, and not what was", () => {
    const ada = entry("AB12-CD34", "Ada", "Lovelace");
    ada.hand_outs = [
      { item: "t-shirt", name: "T-shirt", sizes: ["S", "M"], given: null, duplicates: 0 },
      { item: "voucher", name: "Meal voucher", sizes: [], given: { desk: "d1", at: admission.at, size: null, pending: true }, duplicates: 0 },
    ];
    const o: CheckInOutcome = {
      outcome: "admitted",
      entry: ada,
      card: [{ label: "Hand over", text: toHandOver(ada).join(", "), attention: false }],
      admission,
      overridden: false,
      print: { badge: "no_printer" },
    };
    expect(bannerFor(o, "d1").lines).toContain("Hand over: T-shirt");
    expect(toHandOver(ada)).toEqual(["T-shirt"]);
  });
  it("is amber outside the ticket's rules, says why, and may be let in with a reason", () => {
    const ada = entry("AB12-CD34", "Ada", "Lovelace");
    ada.id_check = true;
    const o: CheckInOutcome = {
      outcome: "outside_rules",
      entry: ada,
      breach: { kind: "wrong_day", day: "2026-11-28", valid_on: ["2026-11-27"] },
    };
    const b = bannerFor(o, "d1");
    expect(b.tone).toBe("warn");
    expect(b.lines[0]).toBe("Valid on Fri 27 Nov, not today (Sat 28 Nov)");
    expect(b.attention).toEqual(["Check ID"]);
    expect(b.overridable).toBe("AB12-CD34");
    expect(breachText({ kind: "too_early", local: "07:30:00", opens: "08:00:00" })).toBe("Entry from 08:00, it is 07:30");
  });
  it("says out, back in, and no re-entry at the gates", () => {
    const ada = entry("AB12-CD34", "Ada", "Lovelace");
    const exit = { admission: "x1", desk: "d1", gate: "North exit", at: "2026-11-24T12:00:00Z" };
    expect(bannerFor({ outcome: "exited", entry: ada, exit }, "d1").title).toBe("Out: Ada Lovelace");
    expect(bannerFor({ outcome: "reentered", entry: ada, card: [], admission: { ...exit, gate: "Main" } }, "d1").title).toBe("Back in: Ada Lovelace");
    const refused = bannerFor({ outcome: "reentry_refused", entry: ada, exited: exit }, "d1");
    expect(refused.tone).toBe("bad");
    expect(refused.overridable).toBe("AB12-CD34");
    expect(bannerFor({ outcome: "not_inside", entry: ada, since: null }, "d1").lines).toEqual(["Never let in"]);
  });
  it("is amber for a second scan and says where the first one was", () => {
    const o: CheckInOutcome = { outcome: "already_admitted", entry: null, first: admission };
    expect(bannerFor(o, "d1").tone).toBe("warn");
    expect(bannerFor(o, "d1").lines[0]).toContain("this desk");
    expect(bannerFor(o, "d2").lines[0]).toContain("another desk");
  });
  it("is red for unknown and not-entitled tickets", () => {
    expect(bannerFor({ outcome: "unknown_ticket", code: "X1" }, null).tone).toBe("bad");
    const o: CheckInOutcome = { outcome: "not_entitled", entry: null, status: "add_on_only" };
    expect(bannerFor(o, null).tone).toBe("bad");
    expect(bannerFor(o, null).lines[0]).toContain("add-on");
  });
});

describe("small formats", () => {
  it("ages", () => {
    expect(formatAge(5)).toBe("5 s");
    expect(formatAge(300)).toBe("5 min");
    expect(formatAge(7500)).toBe("2 h 5 min");
  });
  it("staleness", () => {
    const now = new Date("2026-11-24T09:00:00Z");
    expect(isStale(null, now, 5)).toBe(true);
    expect(isStale("2026-11-24T08:58:00Z", now, 5)).toBe(false);
    expect(isStale("2026-11-24T08:50:00Z", now, 5)).toBe(true);
  });
  it("relay addresses", () => {
    expect(parseRelays(" http://10.0.0.5:7300,\nhttp://hall.local:7300  ")).toEqual([
      "http://10.0.0.5:7300",
      "http://hall.local:7300",
    ]);
    expect(parseRelays("   ")).toEqual([]);
    expect(serverLabel("http://10.0.0.5:7300")).toBe("10.0.0.5:7300");
    expect(serverLabel(null)).toBe("");
  });
  it("amounts", () => {
    expect(parseAmount("12")).toBe(1200);
    expect(parseAmount("12,5")).toBe(1250);
    expect(parseAmount("12.345")).toBeNull();
    expect(parseAmount("abc")).toBeNull();
  });
  it("the sync headline", () => {
    const base = {
      online: true, last_sync: null, pending: 0, oldest_pending_age_secs: null, skew_ms: null,
      skew_warning: false, revoked: false, enrolled: true, last_error: null, diverged: false,
      server: "https://onsite.example", via_relay: false, held: 0,
    };
    expect(syncSummary(base).label).toBe("Online");
    expect(syncSummary({ ...base, via_relay: true }).label).toBe("Venue relay");
    expect(syncSummary({ ...base, via_relay: true, held: 3 }).label).toContain("head office later");
    expect(syncSummary({ ...base, via_relay: true, online: false }).tone).toBe("warn");
    expect(syncSummary({ ...base, online: false }).tone).toBe("warn");
    expect(syncSummary({ ...base, revoked: true }).tone).toBe("bad");
    const diverged = syncSummary({ ...base, diverged: true, last_error: "client_seq 1 was pushed before" });
    expect(diverged.tone).toBe("bad");
    expect(diverged.label).toContain("re-enrol");
  });
});

describe("the stale threshold", () => {
  it("defaults to 5 minutes and keeps what staff set within 1 to 240", () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    expect(staleMinutes(storage)).toBe(5);
    expect(setStaleMinutes(storage, 12)).toBe(true);
    expect(staleMinutes(storage)).toBe(12);
    expect(setStaleMinutes(storage, 0)).toBe(false);
    expect(setStaleMinutes(storage, Number.NaN)).toBe(false);
    expect(staleMinutes(storage)).toBe(12);
  });
});

describe("a party at the door", () => {
  const admission = { admission: "a", desk: "d1", gate: "north", at: "2026-11-23T09:00:00Z", pending: true, out_since: null };
  it("offers only the members who can still come in", () => {
    const inAlready = { ...entry("B", "Bea", "In"), admission };
    const addOn = { ...entry("C", "Cy", "Workshop"), admits: false };
    const gone = { ...entry("D", "Di", "Withdrawn"), withdrawn: true };
    expect(stillToCome([entry("A", "Al", "Out"), inAlready, addOn, gone]).map((m) => m.code)).toEqual(["A"]);
  });
  it("says how many came in and names who was in already", () => {
    const ok: CheckInOutcome = {
      outcome: "admitted",
      entry: entry("A", "Al", "Out"),
      card: [],
      admission,
      overridden: false,
      print: { badge: "not_printed" },
    };
    const dup: CheckInOutcome = { outcome: "already_admitted", entry: entry("B", "Bea", "In"), first: admission };
    expect(partyBanner([ok, ok])).toEqual({ tone: "ok", title: "Admitted 2 of 2", lines: [] });
    const b = partyBanner([ok, dup]);
    expect(b.tone).toBe("warn");
    expect(b.title).toBe("Admitted 1 of 2");
    expect(b.lines[0]).toContain("Bea In");
    expect(partyBanner([ok, { outcome: "unknown_ticket", code: "X" }]).tone).toBe("bad");
  });
});

describe("a scanner on another keyboard layout", () => {
  it("sends what it typed to the desk core when the search found nothing", () => {
    // K7QF-3XP9 from a US-keyed scanner on an AZERTY keyboard.
    expect(codeForEnter('KèAF)"XPç', [], -1)).toBe('KèAF)"XPç');
    expect(codeForEnter("K7QFß3XP9", [], -1)).toBe("K7QFß3XP9");
  });
  it("tells scans from names", () => {
    expect(looksLikeScan('KèAF)"XPç')).toBe(true);
    expect(looksLikeScan("à&é\")'(-è")).toBe(true);
    expect(looksLikeScan("Hélène")).toBe(false);
    expect(looksLikeScan("Ada Lovelace")).toBe(false);
    expect(codeForEnter("Hélène", [], -1)).toBe(null);
  });
});

describe("seats left on the walk-in screen", () => {
  it("never shows a negative count", () => {
    expect(seatsLeft({ remaining: 3, overbook: false })).toBe("3 left");
    expect(seatsLeft({ remaining: 0, overbook: false })).toBe("sold out");
    expect(seatsLeft({ remaining: -45, overbook: false })).toBe("sold out (45 over quota)");
    expect(seatsLeft({ remaining: 0, overbook: true })).toBe("quota reached: sells on as standing room, by policy");
    expect(seatsLeft({ remaining: -2, overbook: true })).toContain("2 over quota");
  });
});

describe("a sale's finality, said before the payment", () => {
  const seats = [
    { seat_type: "general", lease_left: 2 },
    { seat_type: "workshop", lease_left: 0 },
  ];
  it("is final within the desk's lease and provisional beyond it", () => {
    expect(saleFinality(["general"], seats).text).toBe("Final: the seat comes from this desk's lease");
    expect(saleFinality(["general", "general"], seats).text).toBe("Final: all 2 seats come from this desk's lease");
    const mixed = saleFinality(["general", "general", "general", "workshop"], seats);
    expect([mixed.final, mixed.provisional]).toEqual([2, 2]);
    expect(mixed.text).toBe("2 final (from this desk's lease), 2 provisional: refunded if the seats are gone when this desk syncs");
    expect(saleFinality(["workshop"], seats).text).toBe("Provisional: refunded if the seats are gone when this desk syncs");
  });
  it("counts the venue relay's lease after the desk's own", () => {
    const venue = [
      { seat_type: "general", lease_left: 1, venue_left: 2 },
      { seat_type: "workshop", lease_left: 0, venue_left: 1 },
    ];
    expect(saleFinality(["workshop"], venue).text).toBe("Final: the seat comes from the venue's lease");
    expect(saleFinality(["general", "general"], venue).text).toBe(
      "Final: all 2 seats come from this desk's and the venue's leases",
    );
    const over = saleFinality(["general", "general", "general", "general"], venue);
    expect([over.final, over.provisional]).toEqual([3, 1]);
    expect(over.text).toBe(
      "3 final (from this desk's and the venue's leases), 1 provisional: refunded if the seats are gone when this desk syncs",
    );
  });
});

describe("the readiness checklist's heading", () => {
  it("says ready only when every item is green, and counts what is not", () => {
    const c = (level: string) => ({ level });
    expect(readinessTitle({ ready: true, checks: [c("green")] })).toBe("Ready for the doors");
    expect(readinessTitle({ ready: false, checks: [c("red"), c("amber"), c("amber"), c("green")] })).toBe(
      "Not ready yet: 1 to fix, 2 to look at",
    );
    expect(readinessTitle({ ready: false, checks: [c("amber")] })).toBe("Not ready yet: 1 to look at");
  });
});

describe("a room's desk", () => {
  const ada = entry("AB12-CD34", "Ada", "Lovelace");
  const room = (occupancy: number, fill: "room" | "filling" | "almost_full" | "full" | "over") => ({
    name: "Workshop A",
    occupancy,
    capacity: 30,
    fill,
  });

  it("lets an entitled holder in green, warning large from 80 % of the capacity", () => {
    const quiet = bannerFor({ outcome: "entered_room", entry: ada, card: [], room: room(10, "room"), overridden: false }, "d1");
    expect(quiet.tone).toBe("ok");
    expect(quiet.title).toBe("In Workshop A: Ada Lovelace");
    expect(quiet.lines[0]).toBe("10 of 30 in Workshop A");
    expect(quiet.attention).toEqual([]);
    const busy = bannerFor({ outcome: "entered_room", entry: ada, card: [], room: room(29, "almost_full"), overridden: false }, "d1");
    expect(busy.tone).toBe("ok");
    expect(busy.attention).toEqual(["Workshop A is almost full: 29 of 30"]);
    expect(roomWarning(room(24, "filling"))).toBe("Workshop A is filling up: 24 of 30");
    expect(roomWarning(room(30, "full"))).toBe("Workshop A is full now: 30 of 30");
    expect(roomWarning({ name: "Lobby", occupancy: 400, capacity: null, fill: "room" })).toBeNull();
  });

  it("refuses red when the room is full or the person is not entitled, and offers the override", () => {
    const full = bannerFor({ outcome: "room_full", entry: ada, room: room(30, "full") }, "d1");
    expect(full.tone).toBe("bad");
    expect(full.overridable).toBe("AB12-CD34");
    const not = bannerFor({ outcome: "not_entitled_to_room", entry: ada, room: room(3, "room") }, "d1");
    expect(not.tone).toBe("bad");
    expect(not.lines).toContain("Holds no add-on");
    expect(not.overridable).toBe("AB12-CD34");
  });

  it("says since when someone is in the room already, and offers 'left the room'", () => {
    const b = bannerFor(
      {
        outcome: "already_in_room",
        entry: ada,
        room: room(12, "room"),
        since: { visit: "v", desk: "d1", at: "2026-11-23T10:02:00Z" },
      },
      "d1",
    );
    expect(b.tone).toBe("warn");
    expect(b.lines[0]).toContain("by this desk");
    expect(b.leavable).toBe("AB12-CD34");
    expect(b.overridable).toBeUndefined();
  });
});
