import { useEffect, useRef, useState } from "preact/hooks";
import type { DeskState } from "./bindings/DeskState";
import type { DoorNumbers } from "./bindings/DoorNumbers";
import type { Party } from "./bindings/Party";
import type { RosterEntry } from "./bindings/RosterEntry";
import { type Banner, bannerFor, clock, codeForEnter, fullName, partyBanner, stillToCome } from "./logic";
import { desk, errorText } from "./ipc";
import { HandOuts } from "./handouts";
import { play } from "./sound";

/** The door: one field that always has focus; results as you type; Enter checks in. */
export function Door({ state, open }: { state: DeskState; open: (code: string) => void }) {
  const field = useRef<HTMLInputElement>(null);
  const [text, setText] = useState("");
  const [results, setResults] = useState<RosterEntry[]>([]);
  const [selected, setSelected] = useState(-1);
  const [banner, setBanner] = useState<Banner | null>(null);
  const [party, setParty] = useState<Party | null>(null);
  const [ticked, setTicked] = useState<Set<string>>(new Set());
  const [reason, setReason] = useState("");
  const [numbers, setNumbers] = useState<DoorNumbers | null>(null);
  // The person the last check-in was about: their hand-outs show under the banner.
  const [card, setCard] = useState<RosterEntry | null>(null);
  const [overrideReason, setOverrideReason] = useState("");
  const asked = useRef(0);

  useEffect(() => {
    const refresh = () => desk.doorNumbers().then(setNumbers, () => {});
    refresh();
    const t = setInterval(refresh, 5000);
    return () => clearInterval(t);
  }, [banner, state.sync.last_sync]);
  const colours = new Map((state.conference?.attendee_types ?? []).map((t) => [t.id, t]));

  useEffect(() => {
    const keep = () => setTimeout(() => field.current?.focus(), 0);
    keep();
    const onFocus = (e: FocusEvent) => {
      // Another control was clicked with the mouse: the field takes focus back right after
      // (except a field that is typed into, such as an undo's reason).
      const own = (e.target as HTMLElement | null)?.closest?.("[data-own-focus]");
      if (e.target !== field.current && !own) keep();
    };
    document.addEventListener("focusin", onFocus);
    return () => document.removeEventListener("focusin", onFocus);
  }, []);

  async function search(value: string) {
    setText(value);
    const n = ++asked.current;
    if (value.trim() === "") {
      setResults([]);
      setSelected(-1);
      return;
    }
    try {
      const found = await desk.search(value);
      if (n === asked.current) {
        setResults(found);
        setSelected(found.length > 0 ? 0 : -1);
      }
    } catch (e) {
      if (n === asked.current) setBanner({ tone: "bad", title: "Search failed", lines: [errorText(e)] });
    }
  }

  /** The people on the same order as `code`, when there are others: ticks who can still come. */
  async function showParty(code: string) {
    try {
      const p = await desk.party(code);
      if (p.members.length > 1) {
        setParty(p);
        setTicked(new Set(stillToCome(p.members).map((m) => m.code)));
      } else {
        setParty(null);
      }
    } catch {
      setParty(null);
    }
  }

  async function leaveRoom(code: string) {
    try {
      const outcome = await desk.leaveRoom(code);
      const b = bannerFor(outcome, state.identity?.device ?? null);
      setBanner(b);
      play(b.tone);
      setCard(null);
    } catch (e) {
      setBanner({ tone: "bad", title: "Not marked as left", lines: [errorText(e)] });
      play("bad");
    }
  }

  async function checkIn(code: string, override_reason: string | null = null) {
    try {
      const outcome = await desk.checkIn({ code, gate: null, override_reason });
      setOverrideReason("");
      const b = bannerFor(outcome, state.identity?.device ?? null);
      setBanner(b);
      play(b.tone);
      setCard(outcome.outcome === "admitted" || outcome.outcome === "already_admitted" ? outcome.entry : null);
      if (outcome.outcome === "admitted" || outcome.outcome === "already_admitted") {
        await showParty(code);
      } else {
        setParty(null);
      }
    } catch (e) {
      setBanner({ tone: "bad", title: "Not checked in", lines: [errorText(e)] });
      setCard(null);
      play("bad");
    }
  }

  async function admitParty() {
    if (!party) return;
    const codes = party.members.filter((m) => ticked.has(m.code)).map((m) => m.code);
    if (codes.length === 0) return;
    try {
      const outcomes = await desk.checkInParty({ codes, gate: null });
      const b = partyBanner(outcomes);
      setBanner(b);
      play(b.tone);
    } catch (e) {
      setBanner({ tone: "bad", title: "Party not checked in", lines: [errorText(e)] });
      play("bad");
    }
    await showParty(party.members[0].code);
  }

  async function undoParty(codes: string[]) {
    if (!party || codes.length === 0) return;
    if (reason.trim() === "") {
      setBanner({ tone: "bad", title: "Say why", lines: ["An undo needs a reason"] });
      return;
    }
    try {
      await desk.undoParty(codes, reason);
      setBanner({ tone: "warn", title: `Undone: ${codes.length} admission(s)`, lines: [reason] });
      setReason("");
    } catch (e) {
      setBanner({ tone: "bad", title: "Not undone", lines: [errorText(e)] });
    }
    await showParty(party.members[0].code);
    field.current?.focus();
  }

  function onKey(e: KeyboardEvent) {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setSelected((s) => Math.min(results.length - 1, s + 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setSelected((s) => Math.max(0, s - 1));
    } else if (e.key === "Enter" && e.shiftKey) {
      e.preventDefault();
      const r = results[selected];
      if (r) open(r.code);
    } else if (e.key === "Enter") {
      e.preventDefault();
      const code = codeForEnter(text, results, selected);
      if (code) {
        // Clear the field now, not when the answer comes: a scanner may already be typing the
        // next code, and its first characters must not be wiped.
        if (field.current) field.current.value = "";
        setText("");
        setResults([]);
        setSelected(-1);
        asked.current++;
        checkIn(code);
      }
    }
  }

  return (
    <section class="door">
      <label class="scan-label" for="scan">
        Scan a ticket or type a name, email, company or code
      </label>
      <input
        id="scan"
        ref={field}
        class="scan"
        autocomplete="off"
        spellcheck={false}
        value={text}
        onInput={(e) => search((e.target as HTMLInputElement).value)}
        onKeyDown={onKey}
      />
      {numbers && (
        <p class="numbers" id="door-numbers">
          <span>
            Inside now <b id="inside-now">{numbers.inside_now}</b>
          </span>
          <span>
            Last 15 min <b>{numbers.last_15_min}</b>
          </span>
          <span>
            Here <b>{numbers.per_minute_here.toFixed(1)}</b>/min
          </span>
          <span>
            Still to come <b id="expected">{numbers.expected}</b>
          </span>
          {numbers.zones.length > 1 &&
            numbers.zones.map((z) => (
              <span class="zone" data-zone={z.zone}>
                {z.zone} <b>{z.inside_now}</b>
              </span>
            ))}
          {numbers.rooms.map((r) => (
            <span class={`room fill-${r.fill}`} data-room={r.name}>
              {r.name} <b>{r.capacity === null ? r.occupancy : `${r.occupancy}/${r.capacity}`}</b>
            </span>
          ))}
        </p>
      )}
      <p class="hint">
        <kbd>Enter</kbd> check in · <kbd>↑</kbd>
        <kbd>↓</kbd> choose · <kbd>Shift</kbd>+<kbd>Enter</kbd> open attendee · <kbd>Esc</kbd> back here
      </p>
      {banner && (
        <div id="banner" class={`banner tone-${banner.tone}`} data-tone={banner.tone} role="status">
          <div class="banner-title">{banner.title}</div>
          {(banner.attention ?? []).map((a) => (
            <div class="banner-attention">{a}</div>
          ))}
          {(banner.notes ?? []).map((n) => (
            <div class="banner-note">{n}</div>
          ))}
          {banner.lines.map((l) => (
            <div class="banner-line">{l}</div>
          ))}
          {banner.leavable && (
            <div class="override">
              <button type="button" id="left-room" onClick={() => banner.leavable && leaveRoom(banner.leavable)}>
                Left the room
              </button>
            </div>
          )}
          {banner.overridable && (
            <div class="override">
              <input
                id="override-reason"
                data-own-focus
                placeholder="Reason to let in anyway"
                value={overrideReason}
                onInput={(e) => setOverrideReason((e.target as HTMLInputElement).value)}
              />
              <button
                type="button"
                id="let-in-anyway"
                disabled={overrideReason.trim() === ""}
                onClick={() => banner.overridable && checkIn(banner.overridable, overrideReason)}
              >
                Let in anyway
              </button>
            </div>
          )}
        </div>
      )}
      {card && <HandOuts entry={card} ownDevice={state.identity?.device ?? null} changed={setCard} />}
      {party && (
        <section id="party" class="party" aria-label="The party on this order">
          <div class="party-title">
            On the same order: {party.members.length} people, {stillToCome(party.members).length} not in yet
          </div>
          <ul>
            {party.members.map((m) => (
              <li class="party-member" data-code={m.code}>
                <label>
                  <input
                    type="checkbox"
                    disabled={!stillToCome([m]).length}
                    checked={ticked.has(m.code)}
                    onChange={(e) => {
                      const next = new Set(ticked);
                      if ((e.target as HTMLInputElement).checked) next.add(m.code);
                      else next.delete(m.code);
                      setTicked(next);
                    }}
                  />
                  <span class="name">{fullName(m)}</span> <span class="seat">{m.seat_type_name}</span>{" "}
                  {m.admission ? (
                    <span class="pill warn">in at {clock(m.admission.at)}</span>
                  ) : m.withdrawn ? (
                    <span class="pill bad">withdrawn</span>
                  ) : (
                    <span class="pill">not yet in</span>
                  )}
                </label>
                {m.admission && (
                  <button type="button" class="undo-one" onClick={() => undoParty([m.code])}>
                    Undo this person
                  </button>
                )}
              </li>
            ))}
          </ul>
          <div class="party-actions">
            <button type="button" id="admit-party" disabled={ticked.size === 0} onClick={admitParty}>
              Admit ticked ({ticked.size})
            </button>
            <input
              id="party-reason"
              data-own-focus
              placeholder="Reason to undo"
              value={reason}
              onInput={(e) => setReason((e.target as HTMLInputElement).value)}
            />
            <button
              type="button"
              id="undo-party"
              onClick={() => undoParty(party.members.filter((m) => m.admission).map((m) => m.code))}
            >
              Undo whole party
            </button>
            <button type="button" id="close-party" onClick={() => setParty(null)}>
              Close
            </button>
          </div>
        </section>
      )}
      <ol class="results" id="results">
        {results.map((r, i) => {
          const type = colours.get(r.attendee_types[0] ?? "");
          return (
            <li
              class={`result ${i === selected ? "selected" : ""}`}
              data-code={r.code}
              onClick={() => setSelected(i)}
              onDblClick={() => open(r.code)}
            >
              <span class="band" style={{ background: type?.colour ?? "#94a3b8" }} title={type?.name ?? ""} />
              <span class="who">
                <span class="name">{fullName(r)}</span>
                <span class="company">{r.company}</span>
              </span>
              <span class="what">
                <span>{r.seat_type_name}</span>
                {r.entitlements.length > 0 && <span class="ent">+ {r.entitlements.join(", ")}</span>}
              </span>
              <span class="code">{r.code}</span>
              <span class="state">
                {r.withdrawn ? (
                  <span class="pill bad">withdrawn</span>
                ) : r.admission?.out_since ? (
                  <span class="pill">out since {clock(r.admission.out_since)}</span>
                ) : r.admission ? (
                  <span class="pill warn">in at {clock(r.admission.at)}</span>
                ) : r.admits ? (
                  <span class="pill">not yet in</span>
                ) : (
                  <span class="pill bad">add-on only</span>
                )}
                {r.provisional && <span class="pill">provisional</span>}
              </span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
