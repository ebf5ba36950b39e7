import { useState } from "preact/hooks";
import type { RosterEntry } from "./bindings/RosterEntry";
import { clock } from "./logic";
import { desk, errorText } from "./ipc";

/**
 * What the door hands this person: one button per item (one per size for items in sizes), so a
 * hand-out is one click; what was handed over shows when, with an undo that needs a reason.
 */
export function HandOuts({
  entry,
  ownDevice,
  changed,
}: {
  entry: RosterEntry;
  ownDevice: string | null;
  changed: (entry: RosterEntry) => void;
}) {
  const [reason, setReason] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  if (entry.hand_outs.length === 0) return null;

  async function give(item: string, size: string | null) {
    try {
      const outcome = await desk.handOut({ code: entry.code, item, size });
      if (outcome.outcome === "already_given") {
        const where = outcome.first.desk === ownDevice ? "this desk" : "another desk";
        setMessage(`Already handed over at ${clock(outcome.first.at)} by ${where}`);
      } else {
        setMessage(null);
      }
      changed(outcome.entry);
    } catch (e) {
      setMessage(errorText(e));
    }
  }

  async function undo(item: string) {
    if (reason.trim() === "") {
      setMessage("Taking a hand-out back needs a reason");
      return;
    }
    try {
      changed(await desk.undoHandOut(entry.code, item, reason));
      setReason("");
      setMessage(null);
    } catch (e) {
      setMessage(errorText(e));
    }
  }

  return (
    <section id="hand-outs" class="hand-outs" aria-label="Hand-outs">
      <div class="hand-outs-title">Hand over</div>
      <ul>
        {entry.hand_outs.map((h) => (
          <li class={`hand-out ${h.given ? "given" : "due"}`} data-item={h.item}>
            <span class="name">{h.name}</span>{" "}
            {h.given ? (
              <>
                <span class="pill">
                  given {clock(h.given.at)}
                  {h.given.size ? ` (${h.given.size})` : ""}
                  {h.given.desk === ownDevice ? " here" : ""}
                </span>
                {h.duplicates > 0 && <span class="pill bad">handed out twice</span>}
                <button type="button" class="undo-hand-out" onClick={() => undo(h.item)}>
                  Take back
                </button>
              </>
            ) : h.sizes.length > 0 ? (
              h.sizes.map((s) => (
                <button type="button" class="give" data-size={s} onClick={() => give(h.item, s)}>
                  {s}
                </button>
              ))
            ) : (
              <button type="button" class="give" onClick={() => give(h.item, null)}>
                Handed over
              </button>
            )}
          </li>
        ))}
      </ul>
      {entry.hand_outs.some((h) => h.given) && (
        <input
          class="hand-out-reason"
          data-own-focus
          placeholder="Reason to take back"
          value={reason}
          onInput={(e) => setReason((e.target as HTMLInputElement).value)}
        />
      )}
      {message && <div class="hand-out-message">{message}</div>}
    </section>
  );
}
