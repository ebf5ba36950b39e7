import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { AutoPrint } from "./bindings/AutoPrint";
import type { DeskState } from "./bindings/DeskState";
import type { FoundRelay } from "./bindings/FoundRelay";
import type { PrinterView } from "./bindings/PrinterView";
import type { Readiness } from "./bindings/Readiness";
import type { TemplateView } from "./bindings/TemplateView";
import { desk, errorText } from "./ipc";
import { READINESS_LABELS, parseRelays, readinessTitle, setStaleMinutes, staleMinutes } from "./logic";

/** First start: the server's address and the one-time code head office gave. */
export function Setup({ state, onDone }: { state: DeskState; onDone: () => void }) {
  const [server, setServer] = useState("http://127.0.0.1:7300");
  const [code, setCode] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const codeField = useRef<HTMLInputElement>(null);
  // Focus the code field in the same task that inserts it (the autofocus attribute may fire
  // later, in the middle of someone typing the server's address).
  useLayoutEffect(() => codeField.current?.focus(), []);
  async function enrol(e: Event) {
    e.preventDefault();
    setBusy(true);
    try {
      await desk.enrol(server, code);
      onDone();
    } catch (err) {
      setMessage(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="setup">
      <h1>Set up this desk</h1>
      <p>Onsite {state.version}. Ask head office for a one-time enrolment code.</p>
      <form onSubmit={enrol}>
        <label>
          Server
          <input id="server-url" value={server} onInput={(e) => setServer((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Enrolment code
          <input id="enrol-code" ref={codeField} value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
        </label>
        <button id="enrol" type="submit" disabled={busy}>
          {busy ? "Enrolling…" : "Enrol"}
        </button>
      </form>
      {message && (
        <p class="message err" id="setup-message" role="alert">
          {message}
        </p>
      )}
    </main>
  );
}

/** After a copy of this desk's database synced first: a re-enrolment code from head office,
 * and the desk sends everything again (what the server has already counts once). */
function Reenrol({ server, onDone }: { server: string; onDone: () => void }) {
  const [code, setCode] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  async function reenrol(e: Event) {
    e.preventDefault();
    try {
      await desk.reenrol(server, code);
      setMessage("Re-enrolled: everything is being sent again");
      onDone();
    } catch (err) {
      setMessage(errorText(err));
    }
  }
  return (
    <form id="reenrol" class="card err" onSubmit={reenrol}>
      <p>Another copy of this desk's database synced first, so this one can no longer send what it did. Ask head office for a re-enrolment code for this desk; nothing is lost.</p>
      <label>
        Re-enrolment code
        <input id="reenrol-code" value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit">Re-enrol</button>
      {message && <p class="message">{message}</p>}
    </form>
  );
}

export function Settings({ state, onChange }: { state: DeskState; onChange: () => void }) {
  const [gate, setGate] = useState(state.gate);
  const [found, setFound] = useState<FoundRelay[]>([]);
  const [relays, setRelays] = useState(
    state.servers.filter((s) => s !== state.identity?.server_url).join(", "),
  );
  const [printers, setPrinters] = useState<PrinterView[]>([]);
  const [templates, setTemplates] = useState<TemplateView[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [stale, setStale] = useState(String(staleMinutes(window.localStorage)));

  useEffect(() => {
    desk.printers().then(setPrinters, (e) => setMessage(errorText(e)));
    desk.badgeTemplates().then(setTemplates, (e) => setMessage(errorText(e)));
  }, []);

  async function save(what: () => Promise<unknown>) {
    try {
      await what();
      setMessage("Saved");
      onChange();
    } catch (e) {
      setMessage(errorText(e));
    }
  }

  return (
    <section class="settings">
      <h1>Settings</h1>
      <ReadinessList />
      <dl class="facts">
        <dt>Desk</dt>
        <dd>{state.identity?.name}</dd>
        <dt>Server</dt>
        <dd>{state.identity?.server_url}</dd>
        <dt>Talking to</dt>
        <dd id="talking-to">{state.sync.server ?? "nobody yet"}{state.sync.via_relay ? " (venue relay)" : ""}</dd>
        <dt>Version</dt>
        <dd>{state.version}</dd>
      </dl>
      {state.sync.diverged && <Reenrol server={state.identity?.server_url ?? ""} onDone={onChange} />}
      <form
        id="relays-form"
        onSubmit={(e) => {
          e.preventDefault();
          save(() => desk.setRelays(parseRelays(relays)));
        }}
      >
        <label>
          Venue relays (tried first, in order; then the server)
          <input
            id="relays-input"
            value={relays}
            placeholder="e.g. http://10.0.0.5:7300"
            onInput={(e) => setRelays((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit">Save relays</button>
        <button
          type="button"
          id="find-relays"
          onClick={async () => {
            setMessage("Looking for relays on this network…");
            try {
              const list = await desk.findRelays();
              setFound(list);
              setMessage(list.length === 0 ? "No relay of this conference answered on this network" : null);
            } catch (e) {
              setMessage(errorText(e));
            }
          }}
        >
          Find on this network
        </button>
        {found.length > 0 && (
          <ul id="found-relays">
            {found.map((r) => (
              <li data-url={r.url}>
                {r.name} — {r.url}{" "}
                <button
                  type="button"
                  onClick={() => {
                    const list = parseRelays(relays);
                    const next = list.includes(r.url) ? list : [...list, r.url];
                    setRelays(next.join(", "));
                    save(() => desk.setRelays(next));
                  }}
                >
                  Use
                </button>
              </li>
            ))}
          </ul>
        )}
      </form>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save(() => desk.setGate(gate));
        }}
      >
        <label>
          Gate
          <input id="gate-input" value={gate} onInput={(e) => setGate((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Save gate</button>
      </form>
      <label>
        Badge printer
        <select id="printer" value={state.print.printer ?? ""} onChange={(e) => save(() => desk.setPrinter((e.target as HTMLSelectElement).value || null))}>
          <option value="">None</option>
          {printers.map((p) => (
            <option value={p.name}>
              {p.info || p.name}
              {p.problem ? ` — ${p.problem}` : ""}
            </option>
          ))}
        </select>
      </label>
      <label>
        Print a badge at check-in
        <select id="auto-print" value={state.print.auto_print} onChange={(e) => save(() => desk.setAutoPrint((e.target as HTMLSelectElement).value as AutoPrint))}>
          <option value="always">Always</option>
          <option value="if_never_printed">Only if never printed</option>
          <option value="never">Never</option>
        </select>
      </label>
      <label>
        Badge template
        <select id="template" value={state.print.template ?? ""} onChange={(e) => save(() => desk.setBadgeTemplate((e.target as HTMLSelectElement).value))}>
          <option value="">As head office set it (now: {templates.find((t) => t.id === state.print.default_template)?.name ?? state.print.default_template})</option>
          {templates.map((t) => (
            <option value={t.id}>{t.name}</option>
          ))}
        </select>
      </label>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setMessage(setStaleMinutes(window.localStorage, Number(stale)) ? "Saved" : "Stale after: 1 to 240 minutes");
        }}
      >
        <label>
          Seat counts are stale after (minutes without a sync)
          <input id="stale-minutes" inputMode="numeric" value={stale} onInput={(e) => setStale((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Save</button>
      </form>
      {message && <p class="message" id="settings-message">{message}</p>}
      <SupportLog />
    </section>
  );
}

/** The desk's log, for support: shown here, saved as a file to send to head office. */
function SupportLog() {
  const [log, setLog] = useState<string | null>(null);
  const [said, setSaid] = useState<string | null>(null);
  async function show() {
    try {
      setLog(await desk.deskLog());
    } catch (e) {
      setSaid(errorText(e));
    }
  }
  async function save() {
    try {
      setSaid(`Saved to ${await desk.saveDeskLog()}: send this file to head office.`);
    } catch (e) {
      setSaid(errorText(e));
    }
  }
  return (
    <div class="support">
      <h2>Support</h2>
      <button type="button" id="show-log" onClick={show}>
        Show the log
      </button>{" "}
      <button type="button" id="save-log" onClick={save}>
        Save the log for head office
      </button>
      {said && <p class="message" id="log-saved">{said}</p>}
      {log !== null && <pre id="desk-log" class="log">{log}</pre>}
    </div>
  );
}

/** Ready for the doors? The checklist, each item green, amber or red with its reason. */
function ReadinessList() {
  const [readiness, setReadiness] = useState<Readiness | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function check() {
    try {
      setReadiness(await desk.readiness());
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }
  useEffect(() => {
    check();
    const t = setInterval(check, 15_000);
    return () => clearInterval(t);
  }, []);
  return (
    <div class="readiness" id="readiness" data-ready={String(readiness?.ready ?? false)}>
      <h2>{readiness ? readinessTitle(readiness) : "Ready for the doors?"}</h2>
      {error && <p class="message err">{error}</p>}
      <ul>
        {readiness?.checks.map((c) => (
          <li data-item={c.item} data-level={c.level} class={`level-${c.level}`}>
            <span class="dot" /> <b>{READINESS_LABELS[c.item] ?? c.item}:</b> {c.reason}
          </li>
        ))}
      </ul>
      <button type="button" id="check-readiness" onClick={check}>
        Check again
      </button>
    </div>
  );
}
