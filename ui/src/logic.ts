// What the window decides without the desk core: pure functions, tested with Vitest.
import type { CardLine } from "./bindings/CardLine";
import type { CheckInOutcome } from "./bindings/CheckInOutcome";
import type { Money } from "./bindings/Money";
import type { RoomNumbers } from "./bindings/RoomNumbers";
import type { RosterEntry } from "./bindings/RosterEntry";
import type { RuleBreach } from "./bindings/RuleBreach";
import type { SyncStatus } from "./bindings/SyncStatus";

export type Tone = "ok" | "warn" | "bad";

export interface Banner {
  tone: Tone;
  title: string;
  lines: string[];
  /** What staff must look at before the person goes in (ID check, a minor), shown large. */
  attention?: string[];
  /** The ticket staff may let in anyway, with a reason (not entitled, outside its rules). */
  overridable?: string;
  /** The registration's note, in red. */
  notes?: string[];
  /** The ticket of someone in this desk's room, who staff may mark as gone out of it. */
  leavable?: string;
}

/** How full a room is, in words: "12 of 30 in Workshop A", "no limit" when it has none. */
export function roomText(r: RoomNumbers): string {
  return r.capacity === null ? `${r.occupancy} in ${r.name}` : `${r.occupancy} of ${r.capacity} in ${r.name}`;
}

/** The warning a room's fill calls for, shown large: at 80 %, 95 %, full and over. */
export function roomWarning(r: RoomNumbers): string | null {
  switch (r.fill) {
    case "room":
      return null;
    case "filling":
      return `${r.name} is filling up: ${r.occupancy} of ${r.capacity}`;
    case "almost_full":
      return `${r.name} is almost full: ${r.occupancy} of ${r.capacity}`;
    case "full":
      return `${r.name} is full now: ${r.occupancy} of ${r.capacity}`;
    case "over":
      return `${r.name} is over capacity: ${r.occupancy} of ${r.capacity}`;
  }
}

/** The card head office set up, as banner lines and notes. */
export function cardLines(card: CardLine[]): { lines: string[]; notes: string[] } {
  return {
    lines: card.filter((l) => !l.attention).map((l) => `${l.label}: ${l.text}`),
    notes: card.filter((l) => l.attention).map((l) => l.text),
  };
}

/** What the seat type's rules ask staff to check, for the banner. */
export function attentionFor(entry: RosterEntry | null): string[] {
  if (!entry) return [];
  const out: string[] = [];
  if (entry.id_check) out.push("Check ID");
  if (entry.minor) out.push("Minor");
  return out;
}

/** Why a ticket does not admit now, in words: "Valid on Fri 27 Nov, not today (Sat 28 Nov)". */
export function breachText(b: RuleBreach): string {
  const day = (d: string) =>
    new Date(`${d}T12:00:00Z`).toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
  switch (b.kind) {
    case "wrong_day":
      return `Valid on ${b.valid_on.map(day).join(", ")}, not today (${day(b.day)})`;
    case "too_early":
      return `Entry from ${b.opens.slice(0, 5)}, it is ${b.local.slice(0, 5)}`;
  }
}

/** A scanner types the code and Enter; a person types a name. Codes have a digit and no space. */
export function looksLikeCode(text: string): boolean {
  const t = text.trim();
  return t.length >= 4 && t.length <= 32 && /^[A-Za-z0-9-]+$/.test(t) && /[0-9]/.test(t);
}

/**
 * What a scanner may have typed: one word of 4 to 32 characters with something other than
 * letters in it (a digit, a dash, or what a scanner types for them on an AZERTY keyboard:
 * `&"'(-_)`). The desk core reads it back through the layouts.
 */
export function looksLikeScan(text: string): boolean {
  const t = text.trim();
  const n = [...t].length;
  return n >= 4 && n <= 32 && !/\s/u.test(t) && /[^\p{L}]/u.test(t);
}

export function normaliseCode(text: string): string {
  return text.trim().toUpperCase();
}

/**
 * What Enter in the door field checks in: the exact code among the results, else the one
 * result, else the highlighted one, else a typed code the roster does not know (the desk core
 * answers "unknown ticket"). `null`: nothing to check in, keep typing.
 */
export function codeForEnter(text: string, results: RosterEntry[], selected: number): string | null {
  const typed = normaliseCode(text);
  if (typed === "") return null;
  const exact = results.find((r) => r.code === typed);
  if (exact) return exact.code;
  if (looksLikeCode(text) && results.length === 0) return typed;
  if (results.length === 1) return results[0].code;
  if (selected >= 0 && selected < results.length) return results[selected].code;
  if (looksLikeCode(text)) return typed;
  // Typed by a scanner on another keyboard layout: the desk core reads it back.
  if (results.length === 0 && looksLikeScan(text)) return text.trim();
  return null;
}

export function fullName(e: { first_name: string; last_name: string }): string {
  return `${e.first_name} ${e.last_name}`.trim();
}

export function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** The result banner after a check-in: green, amber or red, with what staff must say or do. */
/** What is still to be handed to this person, by name. */
export function toHandOver(entry: RosterEntry): string[] {
  return entry.hand_outs.filter((h) => !h.given).map((h) => h.name);
}

export function bannerFor(outcome: CheckInOutcome, ownDevice: string | null): Banner {
  switch (outcome.outcome) {
    case "admitted": {
      const who = outcome.entry ? fullName(outcome.entry) : outcome.admission.gate;
      const { lines, notes } = cardLines(outcome.card);
      if (outcome.overridden) lines.push("Let in by override");
      const attention = attentionFor(outcome.entry);
      const p = outcome.print;
      if (p.badge === "queued") lines.push("Badge printing");
      else if (p.badge === "no_printer") lines.push("No badge printer chosen");
      else if (p.badge === "held") lines.push("Badge held: the name does not fit. Open the attendee to print.");
      return { tone: "ok", title: `Admitted: ${who}`, lines, attention, notes };
    }
    case "already_admitted": {
      const where = outcome.first.desk === ownDevice ? "this desk" : "another desk";
      const who = outcome.entry ? fullName(outcome.entry) : "This ticket";
      return {
        tone: "warn",
        title: `Already admitted: ${who}`,
        lines: [`at ${clock(outcome.first.at)}, gate ${outcome.first.gate}, by ${where}`],
      };
    }
    case "unknown_ticket":
      return { tone: "bad", title: "Unknown ticket", lines: [`No ticket ${outcome.code} on this desk's roster`] };
    case "not_entitled": {
      const why =
        outcome.status === "add_on_only"
          ? "This ticket is for an add-on only: it does not admit"
          : outcome.status === "withdrawn"
            ? "This walk-in ticket was withdrawn: the sale was not honoured"
            : "This ticket does not admit";
      const who = outcome.entry ? fullName(outcome.entry) : "Ticket";
      return { tone: "bad", title: `Not entitled: ${who}`, lines: [why], overridable: outcome.entry?.code };
    }
    case "reentered": {
      const who = outcome.entry ? fullName(outcome.entry) : "Ticket";
      const { lines, notes } = cardLines(outcome.card);
      return { tone: "ok", title: `Back in: ${who}`, lines: [`gate ${outcome.admission.gate}`, ...lines], attention: attentionFor(outcome.entry), notes };
    }
    case "exited": {
      const who = outcome.entry ? fullName(outcome.entry) : "Ticket";
      return { tone: "ok", title: `Out: ${who}`, lines: [`at ${clock(outcome.exit.at)}, gate ${outcome.exit.gate}`] };
    }
    case "reentry_refused": {
      const who = outcome.entry ? fullName(outcome.entry) : "Ticket";
      return {
        tone: "bad",
        title: `No re-entry: ${who}`,
        lines: [`Went out at ${clock(outcome.exited.at)}, gate ${outcome.exited.gate}; this zone lets nobody back in`],
        overridable: outcome.entry?.code,
      };
    }
    case "not_inside": {
      const who = outcome.entry ? fullName(outcome.entry) : "Ticket";
      const why = outcome.since ? `Out since ${clock(outcome.since.at)}, gate ${outcome.since.gate}` : "Never let in";
      return { tone: "warn", title: `Not inside: ${who}`, lines: [why] };
    }
    case "entered_room": {
      const who = outcome.entry ? fullName(outcome.entry) : "Ticket";
      const { lines, notes } = cardLines(outcome.card);
      if (outcome.overridden) lines.push("Let in by override");
      const warning = roomWarning(outcome.room);
      const attention = [...attentionFor(outcome.entry), ...(warning ? [warning] : [])];
      return { tone: "ok", title: `In ${outcome.room.name}: ${who}`, lines: [roomText(outcome.room), ...lines], attention, notes };
    }
    case "already_in_room": {
      const where = outcome.since.desk === ownDevice ? "this desk" : "another desk";
      const who = outcome.entry ? fullName(outcome.entry) : "This ticket";
      return {
        tone: "warn",
        title: `Already in ${outcome.room.name}: ${who}`,
        lines: [`since ${clock(outcome.since.at)}, by ${where}`],
        leavable: outcome.entry?.code,
      };
    }
    case "not_entitled_to_room": {
      const who = outcome.entry ? fullName(outcome.entry) : "Ticket";
      const holds = outcome.entry?.entitlements.length ? `Holds: ${outcome.entry.entitlements.join(", ")}` : "Holds no add-on";
      return {
        tone: "bad",
        title: `Not for ${outcome.room.name}: ${who}`,
        lines: [holds, outcome.entry?.seat_type_name ?? ""].filter((l) => l !== ""),
        overridable: outcome.entry?.code,
      };
    }
    case "room_full": {
      const who = outcome.entry ? fullName(outcome.entry) : "Ticket";
      return {
        tone: "bad",
        title: `${outcome.room.name} is full: ${who} not let in`,
        lines: [roomText(outcome.room)],
        overridable: outcome.entry?.code,
      };
    }
    case "left_room": {
      const who = outcome.entry ? fullName(outcome.entry) : "Ticket";
      return { tone: "ok", title: `Left ${outcome.room.name}: ${who}`, lines: [roomText(outcome.room)] };
    }
    case "outside_rules": {
      const who = outcome.entry ? fullName(outcome.entry) : "Ticket";
      return {
        tone: "warn",
        title: `Not valid now: ${who}`,
        lines: [breachText(outcome.breach), outcome.entry?.seat_type_name ?? ""].filter((l) => l !== ""),
        attention: attentionFor(outcome.entry),
        overridable: outcome.entry?.code,
      };
    }
  }
}

/** The banner after a party check-in: how many came in, and what the others were. */
export function partyBanner(outcomes: CheckInOutcome[]): Banner {
  const admitted = outcomes.filter((o) => o.outcome === "admitted").length;
  const lines: string[] = [];
  const already = outcomes.filter((o) => o.outcome === "already_admitted");
  if (already.length > 0) {
    lines.push(`Already in: ${already.map((o) => (o.outcome === "already_admitted" && o.entry ? fullName(o.entry) : "a ticket")).join(", ")}`);
  }
  const refused = outcomes.filter((o) => o.outcome === "not_entitled" || o.outcome === "unknown_ticket").length;
  if (refused > 0) lines.push(`${refused} not admitted: open them one by one`);
  const tone: Tone = refused > 0 ? "bad" : already.length > 0 ? "warn" : "ok";
  return { tone, title: `Admitted ${admitted} of ${outcomes.length}`, lines };
}

/** Who of a party can still come in: tickets that admit, not withdrawn, not in yet. */
export function stillToCome(members: RosterEntry[]): RosterEntry[] {
  return members.filter((m) => m.admits && !m.withdrawn && !m.admission);
}

/**
 * What the walk-in screen says of a seat type's seats: how many are left; sold out (and by
 * how many over the quota, when an import or an overbooking sold beyond it); or, for standing
 * room, that it sells beyond the quota by its policy.
 */
export function seatsLeft(s: { remaining: number; overbook: boolean }): string {
  if (s.remaining > 0) return `${s.remaining} left`;
  const over = s.remaining < 0 ? ` (${-s.remaining} over quota)` : "";
  if (s.overbook) return `quota reached${over}: sells on as standing room, by policy`;
  return `sold out${over}`;
}

/**
 * Whether a sale in the making is final or provisional, said before the money is taken: seats
 * of a seat type come from this desk's lease first (final: the server never refunds them), the
 * rest is provisional (refunded if the seats are gone when the desk syncs).
 */
export function saleFinality(
  wanted: string[],
  seats: { seat_type: string; lease_left: number; venue_left?: number }[],
): { final: number; provisional: number; text: string } {
  const per = new Map<string, number>();
  for (const t of wanted) per.set(t, (per.get(t) ?? 0) + 1);
  let own = 0;
  let venue = 0;
  for (const [t, n] of per) {
    const s = seats.find((x) => x.seat_type === t);
    const fromOwn = Math.min(n, Math.max(0, s?.lease_left ?? 0));
    own += fromOwn;
    venue += Math.min(n - fromOwn, Math.max(0, s?.venue_left ?? 0));
  }
  const final = own + venue;
  const provisional = wanted.length - final;
  const refund = "refunded if the seats are gone when this desk syncs";
  // The venue relay's seats are asked for as the sale is made: said as expected, not promised.
  const from =
    venue === 0 ? "this desk's lease" : own === 0 ? "the venue's lease" : "this desk's and the venue's leases";
  const text =
    provisional === 0
      ? `Final: ${final === 1 ? "the seat comes" : `all ${final} seats come`} from ${from}`
      : final === 0
        ? `Provisional: ${refund}`
        : `${final} final (from ${from}), ${provisional} provisional: ${refund}`;
  return { final, provisional, text };
}

/** What each readiness item is called on the checklist. */
export const READINESS_LABELS: Record<string, string> = {
  roster: "Roster",
  last_sync: "Last sync",
  pending: "To send",
  clock: "Clock",
  printer: "Printer",
  leases: "Seats held",
  disk: "Disk",
};

/** The readiness checklist's heading: ready, or how many items need a look. */
export function readinessTitle(r: { ready: boolean; checks: { level: string }[] }): string {
  if (r.ready) return "Ready for the doors";
  const red = r.checks.filter((c) => c.level === "red").length;
  const amber = r.checks.filter((c) => c.level === "amber").length;
  const parts = [red > 0 ? `${red} to fix` : "", amber > 0 ? `${amber} to look at` : ""].filter((p) => p !== "");
  return `Not ready yet: ${parts.join(", ")}`;
}

export function formatMoney(m: Money): string {
  const major = m.amount_minor / 100;
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: m.currency }).format(major);
  } catch {
    return `${major.toFixed(2)} ${m.currency}`;
  }
}

/** "12 s", "4 min", "2 h 5 min". */
export function formatAge(secs: number): string {
  if (secs < 60) return `${Math.max(0, Math.round(secs))} s`;
  const min = Math.floor(secs / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return `${h} h ${min % 60} min`;
}

/** Seat counts older than `staleMinutes` (or never synced) are shown as stale. */
export function isStale(asOf: string | null, now: Date, staleMinutes: number): boolean {
  if (asOf === null) return true;
  const t = new Date(asOf).getTime();
  return Number.isNaN(t) || now.getTime() - t > staleMinutes * 60_000;
}

export interface SyncSummary {
  tone: Tone;
  label: string;
}

/** The sync bar's headline. */
export function syncSummary(s: SyncStatus): SyncSummary {
  if (!s.enrolled) return { tone: "bad", label: "Not enrolled" };
  if (s.revoked) return { tone: "bad", label: "Desk revoked: syncing stopped, nothing local is lost" };
  if (s.diverged)
    return { tone: "bad", label: "Another copy of this desk synced first: re-enrol it in the settings (F4), nothing is lost" };
  if (!s.online) return { tone: "warn", label: "Offline: everything keeps working" };
  if (s.via_relay) {
    if (s.pending > 0) return { tone: "ok", label: "Venue relay, sending" };
    if (s.held > 0) return { tone: "ok", label: "Venue relay: shared here, head office later" };
    return { tone: "ok", label: "Venue relay" };
  }
  if (s.pending > 0) return { tone: "ok", label: "Online, sending" };
  return { tone: "ok", label: "Online" };
}

/** The server a desk spoke to last, for the sync bar: its host, without the scheme. */
export function serverLabel(url: string | null): string {
  if (!url) return "";
  return url.replace(/^https?:\/\//, "");
}

/** Relay addresses as staff typed them (one per line, or separated by commas or spaces). */
export function parseRelays(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** Minor units from what staff typed ("12", "12.5", "12,50"); `null` if it is not an amount. */
export function parseAmount(text: string): number | null {
  const t = text.trim().replace(",", ".");
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return null;
  return Math.round(Number(t) * 100);
}

const STALE_KEY = "onsite.staleMinutes";

/** Minutes after which seat counts are shown as stale: a setting of this window (default 5). */
export function staleMinutes(storage: Pick<Storage, "getItem"> | null): number {
  const n = Number(storage?.getItem(STALE_KEY));
  return Number.isFinite(n) && n >= 1 && n <= 240 ? Math.round(n) : 5;
}

export function setStaleMinutes(storage: Pick<Storage, "setItem">, minutes: number): boolean {
  if (!Number.isFinite(minutes) || minutes < 1 || minutes > 240) return false;
  storage.setItem(STALE_KEY, String(Math.round(minutes)));
  return true;
}
