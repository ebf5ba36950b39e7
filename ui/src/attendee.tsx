import { useEffect, useState } from "preact/hooks";
import type { BadgeSvg } from "./bindings/BadgeSvg";
import type { Party } from "./bindings/Party";
import type { PrintJob } from "./bindings/PrintJob";
import type { RosterEntry } from "./bindings/RosterEntry";
import { clock, fullName } from "./logic";
import { desk, DeskFailure, errorText } from "./ipc";
import { HandOuts } from "./handouts";

/** One attendee: details, print or reprint the badge, undo the check-in, correct the name. */
export function Attendee({ code, back }: { code: string; back: () => void }) {
  const [entry, setEntry] = useState<RosterEntry | null>(null);
  const [jobs, setJobs] = useState<PrintJob[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const [first, setFirst] = useState("");
  const [last, setLast] = useState("");
  const [company, setCompany] = useState("");
  const [preferred, setPreferred] = useState("");
  const [pronouns, setPronouns] = useState("");
  const [needsAccept, setNeedsAccept] = useState(false);
  const [preview, setPreview] = useState<BadgeSvg | null>(null);
  const [party, setParty] = useState<Party | null>(null);

  async function load() {
    const e = await desk.attendee(code);
    setEntry(e);
    if (e) {
      setFirst(e.first_name);
      setLast(e.last_name);
      setCompany(e.company);
      setPreferred(e.preferred_name ?? "");
      setPronouns(e.pronouns ?? "");
    }
    setJobs((await desk.printJobs()).filter((j) => j.code === code));
    setParty(await desk.party(code).catch(() => null));
  }
  async function loadPreview() {
    setPreview(await desk.badgePreview(code));
  }
  useEffect(() => {
    load().catch((e) => setMessage(errorText(e)));
    loadPreview().catch((e) => setMessage(errorText(e)));
    const t = setInterval(() => load().catch(() => {}), 1500);
    return () => clearInterval(t);
  }, [code]);

  async function act(what: () => Promise<unknown>, done: string) {
    try {
      await what();
      setMessage(done);
      setReason("");
      setNeedsAccept(false);
      await load();
      await loadPreview();
    } catch (e) {
      if (e instanceof DeskFailure && e.code === "badge.layout_warnings") setNeedsAccept(true);
      setMessage(errorText(e));
    }
  }

  if (!entry) return <section class="attendee">{message ?? "Loading…"}</section>;
  const printed = entry.prints > 0 || jobs.some((j) => j.state !== "failed");
  return (
    <section class="attendee" id="attendee">
      <button class="link" onClick={back}>
        <kbd>Esc</kbd> Back to the door
      </button>
      <h1 id="attendee-name">{fullName(entry)}</h1>
      <dl class="facts">
        <dt>Company</dt>
        <dd>{entry.company || "—"}</dd>
        <dt>Email</dt>
        <dd>{entry.email}</dd>
        <dt>Ticket</dt>
        <dd>
          {entry.code} · {entry.seat_type_name}
        </dd>
        <dt>Add-ons</dt>
        <dd>{entry.entitlements.join(", ") || "—"}</dd>
        <dt>Admission</dt>
        <dd>
          {entry.admission
            ? `in at ${clock(entry.admission.at)}, gate ${entry.admission.gate}${entry.admission.out_since ? `; out since ${clock(entry.admission.out_since)}` : ""}${entry.admission.pending ? " (not synced yet)" : ""}`
            : "not yet in"}
        </dd>
        {entry.in_room && (
          <>
            <dt>Room</dt>
            <dd id="in-room">{entry.in_room}</dd>
          </>
        )}
        <dt>Badge</dt>
        <dd>{entry.prints > 0 ? `printed ${entry.prints}×` : "never printed"}</dd>
        {party && party.members.length > 1 && (
          <>
            <dt>Same order</dt>
            <dd id="same-order">
              {party.members
                .filter((m) => m.code !== entry.code)
                .map((m) => `${fullName(m)} (${m.admission ? `in at ${clock(m.admission.at)}` : "not yet in"})`)
                .join(", ")}
            </dd>
          </>
        )}
      </dl>
      <HandOuts entry={entry} ownDevice={null} changed={setEntry} />
      {preview && (
        <figure class="badge-preview">
          {/* SVG from the desk's own badge renderer (text escaped there), same layout as the PDF. */}
          <div id="badge-preview" data-template={preview.template} dangerouslySetInnerHTML={{ __html: preview.svg }} />
          {preview.warnings.map((w) => (
            <figcaption class="err">
              {w.kind === "overflow" ? `The ${w.field.replace("_", " ")} does not fit: “${w.text}” would be cut short` : `No glyph for ${w.chars} in the ${w.field.replace("_", " ")}`}
            </figcaption>
          ))}
        </figure>
      )}
      {message && (
        <p class="message" id="attendee-message" role="status">
          {message}
        </p>
      )}
      <div class="actions">
        <label>
          Reason (reprint or undo)
          <input id="reason" value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
        </label>
        <button
          id="print"
          onClick={() =>
            act(
              () => desk.printBadge({ code, reprint_reason: printed ? reason || null : null, printer: null, accept_warnings: needsAccept }),
              "Badge sent to the printer",
            )
          }
        >
          {printed ? "Reprint badge" : "Print badge"}
          {needsAccept && " anyway (name will be cut)"}
        </button>
        {entry.admission && (
          <button id="undo" onClick={() => act(() => desk.undoCheckIn(code, reason), "Check-in undone")}>
            Undo check-in
          </button>
        )}
      </div>
      <form
        class="correct"
        onSubmit={(e) => {
          e.preventDefault();
          act(() => desk.correctAttendee(code, { first_name: first, last_name: last, company }), "Corrected");
        }}
      >
        <h2>Correct name or company</h2>
        <input aria-label="First name" value={first} onInput={(e) => setFirst((e.target as HTMLInputElement).value)} />
        <input aria-label="Last name" value={last} onInput={(e) => setLast((e.target as HTMLInputElement).value)} />
        <input aria-label="Company" value={company} onInput={(e) => setCompany((e.target as HTMLInputElement).value)} />
        <button type="submit">Save correction</button>
      </form>
      <form
        class="correct"
        id="badge-name"
        onSubmit={(e) => {
          e.preventDefault();
          act(
            () => desk.setBadgeName(code, { preferred_name: preferred || null, pronouns: pronouns || null }),
            "Name on the badge saved",
          );
        }}
      >
        <h2>Name on the badge only</h2>
        <input id="preferred-name" aria-label="Preferred name" placeholder="Preferred name" value={preferred} onInput={(e) => setPreferred((e.target as HTMLInputElement).value)} />
        <input id="pronouns" aria-label="Pronouns" placeholder="Pronouns (she/her)" value={pronouns} onInput={(e) => setPronouns((e.target as HTMLInputElement).value)} />
        <button type="submit">Save for the badge</button>
      </form>
      {jobs.length > 0 && (
        <table class="jobs" id="print-jobs">
          <thead>
            <tr>
              <th>When</th>
              <th>Printer</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr data-state={j.state}>
                <td>{clock(j.created_at)}</td>
                <td>{j.printer}</td>
                <td>
                  {j.state}
                  {j.reason && <div class="err">{j.reason}</div>}
                </td>
                <td>{j.state === "failed" && <button onClick={() => act(() => desk.retryPrint(j.job, null), "Sent again")}>Retry</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
