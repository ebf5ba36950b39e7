import { useCallback, useEffect, useState } from "preact/hooks";
import type { DeskState } from "./bindings/DeskState";
import { Door } from "./door";
import { Attendee } from "./attendee";
import { WalkIn } from "./walkin";
import { Inbox } from "./inbox";
import { Settings, Setup } from "./settings";
import { SyncBar } from "./syncbar";
import { desk, errorText } from "./ipc";

export type Screen = { name: "door" } | { name: "attendee"; code: string } | { name: "walkin" } | { name: "inbox" } | { name: "settings" };

const NAV: { key: string; screen: Screen["name"]; label: string }[] = [
  { key: "F1", screen: "door", label: "Door" },
  { key: "F2", screen: "walkin", label: "Walk-in sale" },
  { key: "F3", screen: "inbox", label: "Inbox" },
  { key: "F4", screen: "settings", label: "Settings" },
];

export function App() {
  const [state, setState] = useState<DeskState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [screen, setScreen] = useState<Screen>({ name: "door" });

  const refresh = useCallback(async () => {
    try {
      setState(await desk.state());
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, []);

  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, 1000);
    return () => clearInterval(timer);
  }, [refresh]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const nav = NAV.find((n) => n.key === e.key);
      if (nav) {
        e.preventDefault();
        setScreen({ name: nav.screen } as Screen);
      } else if (e.key === "Escape") {
        setScreen({ name: "door" });
      } else if (e.key === "F5") {
        e.preventDefault();
        desk.syncNow();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  if (!state) {
    return <main class="loading">{error ?? "Opening the desk…"}</main>;
  }
  if (!state.identity) {
    return <Setup state={state} onDone={refresh} />;
  }
  const body = (() => {
    switch (screen.name) {
      case "door":
        return <Door state={state} open={(code) => setScreen({ name: "attendee", code })} />;
      case "attendee":
        return <Attendee code={screen.code} back={() => setScreen({ name: "door" })} />;
      case "walkin":
        return <WalkIn state={state} />;
      case "inbox":
        return <Inbox />;
      case "settings":
        return <Settings state={state} onChange={refresh} />;
    }
  })();
  return (
    <div class="frame">
      <header class="top">
        <div class="title">
          <strong>{state.conference?.name ?? "Onsite"}</strong>
          <span class="desk-name">
            {state.identity.name} · gate <b id="gate">{state.gate}</b>
          </span>
        </div>
        <nav>
          {NAV.map((n) => (
            <button
              id={`nav-${n.screen}`}
              class={screen.name === n.screen ? "active" : ""}
              onClick={() => setScreen({ name: n.screen } as Screen)}
            >
              <kbd>{n.key}</kbd> {n.label}
              {n.screen === "inbox" && state.open_conflicts > 0 && (
                <span class="count" id="inbox-count">
                  {state.open_conflicts}
                </span>
              )}
            </button>
          ))}
        </nav>
      </header>
      <main class="body">{body}</main>
      <SyncBar status={state.sync} />
    </div>
  );
}
