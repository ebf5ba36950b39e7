import type { SyncStatus } from "./bindings/SyncStatus";
import { clock, formatAge, serverLabel, syncSummary } from "./logic";
import { desk } from "./ipc";

export function SyncBar({ status }: { status: SyncStatus }) {
  const head = syncSummary(status);
  return (
    <footer class={`syncbar tone-${head.tone}`} id="sync-bar" data-online={String(status.online)}>
      <span class="dot" aria-hidden="true" />
      <span id="sync-label">{head.label}</span>
      {status.server && (
        <span id="sync-server" data-relay={String(status.via_relay)} title={status.server}>
          {status.via_relay ? "Relay" : "Server"}: {serverLabel(status.server)}
        </span>
      )}
      <span>Last sync: {status.last_sync ? clock(status.last_sync) : "never"}</span>
      {status.held > 0 && (
        <span id="sync-held" data-held={status.held} title="Stored at the venue and shared with the other desks; head office decides when the venue is back online">
          Held at the venue: {status.held}
        </span>
      )}
      <span id="sync-pending" data-pending={status.pending}>
        Pending: {status.pending}
        {status.oldest_pending_age_secs !== null && status.pending > 0 && ` (oldest ${formatAge(status.oldest_pending_age_secs)})`}
      </span>
      {status.skew_warning && status.skew_ms !== null && (
        <span class="skew">Clock is {formatAge(Math.abs(status.skew_ms) / 1000)} {status.skew_ms > 0 ? "ahead of" : "behind"} the server</span>
      )}
      {status.last_error && (!status.online || status.diverged) && (
        <span class="err" title={status.last_error}>
          {status.last_error}
        </span>
      )}
      <button id="sync-now" onClick={() => desk.syncNow()}>
        <kbd>F5</kbd> Sync now
      </button>
    </footer>
  );
}
