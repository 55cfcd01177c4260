import { useI18n } from '../language.js';
import type { DashboardView } from '../live/view.js';

/** Units on hand per ingredient, and how many the waiting orders need. */
export function Stock({ view }: { view: DashboardView }) {
  const { t, ingredient, number, time } = useI18n();
  const scale = Math.max(10, ...(view.stock ?? []).map((row) => row.onHand));
  return (
    <section className="card stock" aria-labelledby="stock-title">
      <h2 id="stock-title">{t.stockTitle}</h2>
      <p className="card-caption">
        {t.stockCaption}
        {view.stockChangedAt !== null && <> · {t.stockUpdated(time(view.stockChangedAt))}</>}
      </p>
      {!view.stock ? (
        <p className="muted">{t.stockUnknown}</p>
      ) : (
        <ul className="stock-list" data-testid="stock">
          {view.stock.map((row) => {
            const short = row.needed > row.onHand;
            return (
              <li key={row.ingredient} className={`stock-row${short ? ' stock-short' : ''}`} data-ingredient={row.ingredient}>
                <span className="stock-name">{ingredient(row.ingredient)}</span>
                <span className="stock-bar" aria-hidden="true">
                  <span className="stock-fill" style={{ width: `${(row.onHand / scale) * 100}%` }} />
                </span>
                <span className="stock-on-hand">
                  <span data-testid={`stock-${row.ingredient}`}>{number(row.onHand)}</span>
                  <span className="visually-hidden"> {t.onHand}</span>
                </span>
                {row.needed > 0 && (
                  <span className="stock-needed">
                    {t.stockNeeded(row.needed)}
                    {short && <span className="badge badge-short">{t.stockShort}</span>}
                  </span>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
