import { useEffect, useState } from "preact/hooks";
import type { ConflictItem } from "./bindings/ConflictItem";
import { breachText, clock, formatMoney } from "./logic";
import { desk, errorText } from "./ipc";

function detail(c: ConflictItem): string {
  const k = c.kind;
  switch (k.kind) {
    case "walk_in_rejected":
      return `Refund due: ${formatMoney(k.refund_due)} (${k.tickets.length} ticket(s) withdrawn)`;
    case "duplicate_admission":
      return `${k.code}: first at ${clock(k.first.at)} gate ${k.first.gate}, again at ${clock(k.duplicate.at)} gate ${k.duplicate.gate}`;
    case "duplicate_hand_out":
      return `${k.code}: ${k.item} handed out twice, at ${clock(k.first.at)}${k.first.size ? ` (${k.first.size})` : ""} and at ${clock(k.duplicate.at)}${k.duplicate.size ? ` (${k.duplicate.size})` : ""}`;
    case "admission_outside_rules":
      return `${k.code} let in at ${clock(k.admission.at)} gate ${k.admission.gate}: ${breachText(k.breach)}${k.by_clock ? " (the desk's clock was off)" : ""}`;
    case "room_entry":
      return `${k.code} let into ${k.room} at ${clock(k.visit.at)} without a reason: ${
        k.breach.breach === "not_entitled" ? "not entitled" : `the room held ${k.breach.occupancy} of ${k.breach.capacity}`
      }`;
    case "invalid_ticket_admission":
      return `${k.code} let in at ${clock(k.admission.at)} gate ${k.admission.gate} (${k.status.replace(/_/g, " ")})`;
    case "payment_after_expiry":
      return "A payment arrived after the order expired";
    case "sale_refused":
      return `The server did not record this sale (${k.reason.replace(/[._]/g, " ")}); ${formatMoney(k.amount_taken)} was taken`;
  }
}

/** What the desk gives back for an item, when it is money (a withdrawn or refused sale). */
function refund(c: ConflictItem) {
  switch (c.kind.kind) {
    case "walk_in_rejected":
      return c.kind.refund_due;
    case "sale_refused":
      return c.kind.amount_taken;
    default:
      return null;
  }
}

/** Everything a person must decide: refunds due, duplicate admissions, unknown tickets let in. */
export function Inbox() {
  const [items, setItems] = useState<ConflictItem[]>([]);
  const [note, setNote] = useState("");
  const [message, setMessage] = useState<string | null>(null);

  async function load() {
    setItems(await desk.conflicts());
  }
  useEffect(() => {
    load().catch((e) => setMessage(errorText(e)));
    const t = setInterval(() => load().catch(() => {}), 1500);
    return () => clearInterval(t);
  }, []);

  async function act(c: ConflictItem) {
    try {
      const money = refund(c);
      if (money) {
        await desk.actOnConflict(c.conflict, { action: "record_refund", amount_minor: money.amount_minor, method: "cash", note });
      } else {
        await desk.actOnConflict(c.conflict, { action: "close", note: note || "checked at the door" });
      }
      setNote("");
      await load();
    } catch (e) {
      setMessage(errorText(e));
    }
  }

  return (
    <section class="inbox">
      <h1>Conflict inbox</h1>
      <label>
        Note for the next action
        <input id="note" value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
      </label>
      {message && <p class="message err">{message}</p>}
      {items.length === 0 && <p>Nothing to decide.</p>}
      <ul class="conflicts" id="conflicts">
        {items.map((c) => (
          <li class={`conflict ${c.resolution ? "resolved" : "open"}`} data-kind={c.kind.kind}>
            <div class="label">{c.label}</div>
            <div>{detail(c)}</div>
            <div class="meta">
              {c.opened_at && `opened ${clock(c.opened_at)}`}
              {c.pending && " · not synced yet"}
              {c.resolution && ` · ${c.resolution.kind.replace(/_/g, " ")}`}
            </div>
            {!c.resolution && (
              <button class="resolve" onClick={() => act(c)}>
                {refund(c) ? "Refund given (cash)" : "Looked at: close"}
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
