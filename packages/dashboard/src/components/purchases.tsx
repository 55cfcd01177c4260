import { useI18n } from '../language.js';
import type { DashboardView } from '../live/view.js';

/** Every market attempt, newest first: sales, days with nothing, and faults. */
export function Purchases({ view }: { view: DashboardView }) {
  const { t, ingredient, outcome, time } = useI18n();
  const totals = view.purchaseTotals;
  return (
    <section className="card purchases" aria-labelledby="purchases-title">
      <h2 id="purchases-title">{t.purchasesTitle}</h2>
      {view.purchases.length === 0 ? (
        <p className="muted">{t.purchasesEmpty}</p>
      ) : (
        <>
          <p className="card-caption" data-testid="purchase-totals">
            {t.purchasesSummary(totals.attempts, totals.units, totals.none, totals.faults)}
          </p>
          <div className="table-scroll">
            <table className="table" data-testid="purchases">
              <thead>
                <tr>
                  <th scope="col">{t.colTime}</th>
                  <th scope="col">{t.colIngredient}</th>
                  <th scope="col">{t.colOutcome}</th>
                </tr>
              </thead>
              <tbody>
                {view.purchases.map((purchase) => (
                  <tr key={purchase.id} data-purchase-id={purchase.id} data-outcome={purchase.outcome}>
                    <td className="numeric">{time(Date.parse(purchase.at))}</td>
                    <td>{ingredient(purchase.ingredient)}</td>
                    <td>
                      <span className={`badge badge-${purchase.outcome}`}>{outcome(purchase.outcome, purchase.quantitySold)}</span>
                      {purchase.error && (
                        <span className="fault-reason" title={purchase.error}>
                          {purchase.error}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
