import { useId, useState, type FormEvent } from 'react';
import { useI18n } from '../language.js';
import type { LiveStore } from '../live/live-store.js';

type Outcome = { kind: 'idle' } | { kind: 'busy' } | { kind: 'ok'; count: number } | { kind: 'error'; message: string };

/** One button for one dish, and a quantity for many at once (up to the server's maximum). */
export function OrderPanel({ store, onUnauthorized }: { store: LiveStore; onUnauthorized: () => void }) {
  const { t } = useI18n();
  const max = store.maxOrderQuantity;
  const [quantityText, setQuantityText] = useState('20');
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' });
  const quantityId = useId();
  const hintId = useId();
  const titleId = useId();

  const quantity = Number(quantityText);
  const validQuantity = Number.isInteger(quantity) && quantity >= 1 && quantity <= max;
  const busy = outcome.kind === 'busy';

  const place = async (count: number) => {
    setOutcome({ kind: 'busy' });
    const result = await store.place(count);
    if (result.ok) return setOutcome({ kind: 'ok', count: result.orders.length });
    if (result.reason === 'unauthorized') {
      setOutcome({ kind: 'error', message: t.orderUnauthorized });
      onUnauthorized();
      return;
    }
    setOutcome({ kind: 'error', message: result.reason === 'network' ? t.orderNetwork : t.orderFailed(result.message) });
  };

  const submitMany = (event: FormEvent) => {
    event.preventDefault();
    if (validQuantity && !busy) void place(quantity);
  };

  return (
    <section className="card order-panel" aria-labelledby={titleId}>
      <h2 id={titleId}>{t.orderTitle}</h2>
      <button type="button" className="button button-primary button-large" disabled={busy} onClick={() => void place(1)}>
        {t.orderOne}
      </button>
      <form className="order-many" onSubmit={submitMany}>
        <label htmlFor={quantityId}>{t.orderManyLabel}</label>
        <div className="order-many-row">
          <input
            id={quantityId}
            type="number"
            inputMode="numeric"
            min={1}
            max={max}
            step={1}
            value={quantityText}
            onChange={(event) => setQuantityText(event.target.value)}
            aria-describedby={hintId}
            aria-invalid={!validQuantity || undefined}
          />
          <button type="submit" className="button" disabled={busy || !validQuantity}>
            {t.orderMany(validQuantity ? quantity : 0)}
          </button>
        </div>
        <p id={hintId} className="hint">
          {t.orderManyHint(max)}
        </p>
      </form>
      <p
        className={`outcome outcome-${outcome.kind}`}
        role={outcome.kind === 'error' ? 'alert' : 'status'}
        data-testid="order-outcome"
      >
        {outcome.kind === 'busy'
          ? t.ordering
          : outcome.kind === 'ok'
            ? t.ordered(outcome.count)
            : outcome.kind === 'error'
              ? outcome.message
              : ''}
      </p>
    </section>
  );
}
