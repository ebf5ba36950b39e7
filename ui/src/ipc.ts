// The desk core, as the window reaches it: one typed function per Tauri command (src-tauri/src/ipc.rs).
// Every type here is generated from the Rust types into ./bindings (cargo xtask bindings).
import type { FoundRelay } from "./bindings/FoundRelay";
import type { AutoPrint } from "./bindings/AutoPrint";
import type { BadgeName } from "./bindings/BadgeName";
import type { BadgeSvg } from "./bindings/BadgeSvg";
import type { CheckInOutcome } from "./bindings/CheckInOutcome";
import type { CheckInRequest } from "./bindings/CheckInRequest";
import type { ConflictAction } from "./bindings/ConflictAction";
import type { ConflictItem } from "./bindings/ConflictItem";
import type { Correction } from "./bindings/Correction";
import type { DeskState } from "./bindings/DeskState";
import type { DoorNumbers } from "./bindings/DoorNumbers";
import type { Failure } from "./bindings/Failure";
import type { HandOutOutcome } from "./bindings/HandOutOutcome";
import type { HandOutRequest } from "./bindings/HandOutRequest";
import type { LeaseView } from "./bindings/LeaseView";
import type { Party } from "./bindings/Party";
import type { PartyCheckInRequest } from "./bindings/PartyCheckInRequest";
import type { PrintJob } from "./bindings/PrintJob";
import type { PrintRequest } from "./bindings/PrintRequest";
import type { PrinterView } from "./bindings/PrinterView";
import type { Readiness } from "./bindings/Readiness";
import type { RosterEntry } from "./bindings/RosterEntry";
import type { SaleReceipt } from "./bindings/SaleReceipt";
import type { SaleRequest } from "./bindings/SaleRequest";
import type { SaleView } from "./bindings/SaleView";
import type { SeatAvailability } from "./bindings/SeatAvailability";
import type { TemplateView } from "./bindings/TemplateView";

type Invoke = (cmd: string, args?: Record<string, unknown>) => Promise<unknown>;

declare global {
  interface Window {
    __TAURI__?: { core: { invoke: Invoke } };
  }
}

/** A command that failed: the desk core's stable code and its sentence for the person at the desk. */
export class DeskFailure extends Error {
  code: string;
  constructor(f: Failure) {
    super(f.message);
    this.code = f.code;
  }
}

function isFailure(e: unknown): e is Failure {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  const invoke = window.__TAURI__?.core.invoke;
  if (!invoke) throw new DeskFailure({ code: "ui.no_desk", message: "Not running inside the desk app." });
  try {
    return (await invoke(cmd, args)) as T;
  } catch (e) {
    if (isFailure(e)) throw new DeskFailure(e);
    throw new DeskFailure({ code: "ui.ipc", message: String(e) });
  }
}

export const desk = {
  state: () => call<DeskState>("desk_state"),
  enrol: (serverUrl: string, code: string) => call<null>("enrol", { serverUrl, code }),
  reenrol: (serverUrl: string, code: string) => call<null>("reenrol", { serverUrl, code }),
  syncNow: () => call<null>("sync_now"),
  search: (text: string) => call<RosterEntry[]>("search", { text }),
  attendee: (code: string) => call<RosterEntry | null>("attendee", { code }),
  checkIn: (req: CheckInRequest) => call<CheckInOutcome>("check_in", { req }),
  undoCheckIn: (code: string, reason: string) => call<null>("undo_check_in", { code, reason }),
  doorNumbers: () => call<DoorNumbers>("door_numbers"),
  party: (code: string) => call<Party>("party", { code }),
  checkInParty: (req: PartyCheckInRequest) => call<CheckInOutcome[]>("check_in_party", { req }),
  undoParty: (codes: string[], reason: string) => call<null>("undo_party", { codes, reason }),
  deskLog: () => call<string>("desk_log"),
  saveDeskLog: () => call<string>("save_desk_log"),
  leaveRoom: (code: string) => call<CheckInOutcome>("leave_room", { code }),
  handOut: (req: HandOutRequest) => call<HandOutOutcome>("hand_out", { req }),
  undoHandOut: (code: string, item: string, reason: string) =>
    call<RosterEntry>("undo_hand_out", { code, item, reason }),
  setBadgeName: (code: string, name: BadgeName) => call<null>("set_badge_name", { code, name }),
  correctAttendee: (code: string, correction: Correction) =>
    call<null>("correct_attendee", { code, correction }),
  availability: () => call<SeatAvailability[]>("availability"),
  sell: (req: SaleRequest, admit = false) => call<SaleReceipt>("sell", { req, admit }),
  sales: () => call<SaleView[]>("sales"),
  leases: () => call<LeaseView[]>("leases"),
  returnLease: (lease: string) => call<null>("return_lease", { lease }),
  readiness: () => call<Readiness>("readiness"),
  askLease: (seatType: string, quantity: number) =>
    call<null>("ask_lease", { seatType, quantity }),
  conflicts: () => call<ConflictItem[]>("conflicts"),
  actOnConflict: (conflict: string, action: ConflictAction) =>
    call<null>("act_on_conflict", { conflict, action }),
  setGate: (gate: string) => call<null>("set_gate", { gate }),
  setRelays: (relays: string[]) => call<string[]>("set_relays", { relays }),
  findRelays: () => call<FoundRelay[]>("find_relays"),
  printers: () => call<PrinterView[]>("printers"),
  setPrinter: (printer: string | null) => call<null>("set_printer", { printer }),
  setAutoPrint: (policy: AutoPrint) => call<null>("set_auto_print", { policy }),
  setBadgeTemplate: (template: string) => call<null>("set_badge_template", { template }),
  badgeTemplates: () => call<TemplateView[]>("badge_templates"),
  badgePreview: (code: string) => call<BadgeSvg>("badge_preview", { code }),
  printBadge: (req: PrintRequest) => call<PrintJob>("print_badge", { req }),
  retryPrint: (job: string, printer: string | null) => call<PrintJob>("retry_print", { job, printer }),
  printJobs: () => call<PrintJob[]>("print_jobs"),
};

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
