import { useEffect, useState } from "preact/hooks";
import type { DeskState } from "./bindings/DeskState";
import type { LeaseView } from "./bindings/LeaseView";
import type { PaymentMethod } from "./bindings/PaymentMethod";
import type { SaleReceipt } from "./bindings/SaleReceipt";
import type { SaleView } from "./bindings/SaleView";
import type { SeatAvailability } from "./bindings/SeatAvailability";
import { clock, formatMoney, fullName, isStale, parseAmount, saleFinality, seatsLeft, staleMinutes } from "./logic";
import { desk, errorText } from "./ipc";

interface Holder {
  seat_type: string;
  first_name: string;
  last_name: string;
  email: string;
  company: string;
  /** A walk-in guest: no name taken; the desk names the ticket "Walk-in guest N". */
  guest: boolean;
}

export function WalkIn({ state }: { state: DeskState }) {
  const [seats, setSeats] = useState<SeatAvailability[]>([]);
  const [sales, setSales] = useState<SaleView[]>([]);
  const [leases, setLeases] = useState<LeaseView[]>([]);
  const [holders, setHolders] = useState<Holder[]>([]);
  const [method, setMethod] = useState<PaymentMethod>("card");
  const [amount, setAmount] = useState("");
  const [receipt, setReceipt] = useState<SaleReceipt | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [printed, setPrinted] = useState<string | null>(null);
  const [admitNow, setAdmitNow] = useState(false);
  const [askType, setAskType] = useState("");
  const [askCount, setAskCount] = useState("5");

  async function load() {
    setSeats(await desk.availability());
    setSales(await desk.sales());
    setLeases(await desk.leases());
  }
  useEffect(() => {
    load().catch((e) => setMessage(errorText(e)));
    const t = setInterval(() => load().catch(() => {}), 2000);
    return () => clearInterval(t);
  }, [state.sync.last_sync]);

  const total = holders.reduce((sum, h) => sum + (seats.find((s) => s.seat_type === h.seat_type)?.price.amount_minor ?? 0), 0);
  const currency = seats[0]?.price.currency ?? "EUR";
  const finality = saleFinality(
    holders.map((h) => h.seat_type),
    seats,
  );
  const stale = isStale(seats[0]?.as_of ?? null, new Date(), staleMinutes(window.localStorage));

  function add(seat: SeatAvailability) {
    const copy = holders.find((h) => h.seat_type !== seat.seat_type) ?? holders[holders.length - 1];
    setHolders([
      ...holders,
      {
        seat_type: seat.seat_type,
        first_name: copy?.first_name ?? "",
        last_name: copy?.last_name ?? "",
        email: copy?.email ?? "",
        company: copy?.company ?? "",
        guest: copy?.guest ?? false,
      },
    ]);
  }
  function edit(i: number, field: "first_name" | "last_name" | "email" | "company", value: string) {
    setHolders(holders.map((h, j) => (j === i ? { ...h, [field]: value } : h)));
  }
  function setGuest(i: number, guest: boolean) {
    setHolders(holders.map((h, j) => (j === i ? { ...h, guest, ...(guest ? { first_name: "", last_name: "", email: "" } : {}) } : h)));
  }

  async function confirm(e: Event) {
    e.preventDefault();
    const taken = amount.trim() === "" ? total : parseAmount(amount);
    if (taken === null) {
      setMessage("The amount taken is not an amount");
      return;
    }
    try {
      const r = await desk.sell(
        {
          tickets: holders.map(({ guest: _, ...h }) => ({ ...h, attendee_types: [] })),
          payment_method: method,
          amount_taken_minor: taken,
        },
        admitNow,
      );
      setReceipt(r);
      setPrinted(null);
      setHolders([]);
      setAmount("");
      setMessage(null);
      await load();
    } catch (err) {
      setMessage(errorText(err));
    }
  }

  return (
    <section class="walkin">
      <h1>Walk-in sale</h1>
      <p class={stale ? "stale" : "fresh"} id="seats-as-of">
        Seats as of {seats[0]?.as_of ? clock(seats[0].as_of) : "never"}
        {stale && " — stale: another desk or the web may have sold some since"}
      </p>
      <table class="seats" id="seats">
        <tbody>
          {seats.map((s) => (
            <tr data-seat={s.name}>
              <td>{s.name}</td>
              <td>{formatMoney(s.price)}</td>
              <td class="remaining">
                {seatsLeft(s)}
                {s.pending > 0 && ` (${s.pending} sold here, not confirmed)`}
                {s.lease_left > 0 && <span class="lease"> — {s.lease_left} held for this desk: final</span>}
                {s.venue_left > 0 && <span class="lease venue"> — {s.venue_left} in the venue's lease: final</span>}
              </td>
              <td>
                <button class="add-seat" disabled={s.remaining <= 0 && !s.overbook} onClick={() => add(s)}>
                  Add
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {holders.length > 0 && (
        <form class="sale" onSubmit={confirm}>
          {holders.map((h, i) => (
            <fieldset>
              <legend>{seats.find((s) => s.seat_type === h.seat_type)?.name}</legend>
              <label class="guest-label">
                <input type="checkbox" class="guest" checked={h.guest} onChange={(e) => setGuest(i, (e.target as HTMLInputElement).checked)} />
                Walk-in guest, no name
              </label>
              {!h.guest && (
                <>
                  <input class="first-name" placeholder="First name" value={h.first_name} onInput={(e) => edit(i, "first_name", (e.target as HTMLInputElement).value)} />
                  <input class="last-name" placeholder="Last name" value={h.last_name} onInput={(e) => edit(i, "last_name", (e.target as HTMLInputElement).value)} />
                  <input class="email" placeholder="Email" value={h.email} onInput={(e) => edit(i, "email", (e.target as HTMLInputElement).value)} />
                </>
              )}
              <input class="company" placeholder="Company" value={h.company} onInput={(e) => edit(i, "company", (e.target as HTMLInputElement).value)} />
              <button type="button" onClick={() => setHolders(holders.filter((_, j) => j !== i))}>
                Remove
              </button>
            </fieldset>
          ))}
          <label>
            Payment
            <select id="payment" value={method} onChange={(e) => setMethod((e.target as HTMLSelectElement).value as PaymentMethod)}>
              <option value="card">Card</option>
              <option value="cash">Cash</option>
              <option value="invoice">Invoice</option>
              <option value="complimentary">Complimentary</option>
            </select>
          </label>
          <label>
            Amount taken
            <input id="amount" placeholder={(total / 100).toFixed(2)} value={amount} onInput={(e) => setAmount((e.target as HTMLInputElement).value)} />
          </label>
          <p class="total">Total: {formatMoney({ amount_minor: total, currency })}</p>
          <p id="sale-finality" class={finality.provisional === 0 ? "final" : "provisional"}>
            {finality.text}
          </p>
          <label class="guest-label">
            <input type="checkbox" id="admit-now" checked={admitNow} onChange={(e) => setAdmitNow((e.target as HTMLInputElement).checked)} />
            Let them in now (this desk is also a door)
          </label>
          <button id="confirm-sale" type="submit">
            Confirm sale
          </button>
        </form>
      )}
      {message && <p class="message err" id="sale-message">{message}</p>}
      {receipt && (
        <div class="receipt" id="receipt">
          <h2>
            {receipt.final_tickets.length === receipt.tickets.length
              ? "Sold — final (from this desk's lease)"
              : receipt.final_tickets.length === 0
                ? "Sold (provisional until the server confirms)"
                : `Sold — ${receipt.final_tickets.length} final, ${receipt.tickets.length - receipt.final_tickets.length} provisional until the server confirms`}
          </h2>
          {receipt.tickets.map((t) => (
            <div class="ticket">
              {fullName(t.attendee)} — <b>{t.code}</b>
              {receipt.final_tickets.includes(t.ticket) && <span class="pill final"> final</span>}
              {receipt.admitted.includes(t.code) && <span class="pill"> let in</span>}
            </div>
          ))}
          <button
            id="print-receipt"
            onClick={async () => {
              try {
                for (const t of receipt.tickets) {
                  await desk.printBadge({ code: t.code, reprint_reason: null, printer: null, accept_warnings: false });
                }
                setPrinted(`${receipt.tickets.length} badge(s) sent to the printer`);
              } catch (e) {
                setPrinted(errorText(e));
              }
            }}
          >
            Print badges
          </button>
          {printed && <p id="receipt-printed">{printed}</p>}
        </div>
      )}
      <details class="ask-lease">
        <summary>Hold seats at this desk (online)</summary>
        <p class="muted">
          Seats held here are this desk's to sell: a sale from them is final, even offline. Head office
          sets how many a desk may hold.
        </p>
        <select id="ask-seat-type" value={askType} onChange={(e) => setAskType((e.target as HTMLSelectElement).value)}>
          <option value="">Seat type…</option>
          {seats.map((s) => (
            <option value={s.seat_type}>{s.name}</option>
          ))}
        </select>
        <input id="ask-quantity" type="number" min="1" value={askCount} onInput={(e) => setAskCount((e.target as HTMLInputElement).value)} />
        <button
          id="ask-lease"
          disabled={askType === ""}
          onClick={async () => {
            try {
              await desk.askLease(askType, Number.parseInt(askCount, 10));
              setMessage(null);
              await load();
            } catch (e) {
              setMessage(errorText(e));
            }
          }}
        >
          Ask for them
        </button>
      </details>
      {leases.length > 0 && (
        <>
          <h2>Seats held for this desk</h2>
          <table class="leases" id="leases">
            <tbody>
              {leases.map((l) => (
                <tr data-lease={l.lease} data-ended={l.ended ?? ""}>
                  <td>{l.seat_type_name}</td>
                  <td>
                    {l.ended
                      ? `ended (${l.ended})`
                      : `${l.left} of ${l.granted} left, until ${clock(l.until)}`}
                  </td>
                  <td>{l.sold + l.sold_here_pending} sold</td>
                  <td>
                    {!l.ended && (
                      <button
                        class="return-lease"
                        onClick={async () => {
                          try {
                            await desk.returnLease(l.lease);
                            setMessage(null);
                            await load();
                          } catch (e) {
                            setMessage(errorText(e));
                          }
                        }}
                      >
                        Give back
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h2>Sales at this desk</h2>
      <table class="sales" id="sales">
        <tbody>
          {sales.map((s) => (
            <tr data-status={s.status} data-pending={String(s.pending)} data-final={String(s.final_tickets.length)}>
              <td>{clock(s.sold_at)}</td>
              <td>{s.tickets.map((t) => fullName(t.attendee)).join(", ")}</td>
              <td>{formatMoney(s.total)}</td>
              <td class="status">
                {s.status.replace("_", " ")}
                {s.status === "provisional" && s.final_tickets.length > 0 && ` (${s.final_tickets.length} final)`}
                {s.refund_due && ` — refund due ${formatMoney(s.refund_due)}`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
