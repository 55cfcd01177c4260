import { useI18n } from '../language.js';
import type { DashboardView, PreparationColumn } from '../live/view.js';

/** Orders not delivered yet, one column per status, oldest first. */
export function Preparation({ view }: { view: DashboardView }) {
  const { t } = useI18n();
  return (
    <section className="card preparation" aria-labelledby="preparation-title">
      <h2 id="preparation-title">{t.preparationTitle}</h2>
      <div className="columns">
        {view.columns.map((column) => (
          <Column key={column.status} column={column} />
        ))}
      </div>
    </section>
  );
}

function Column({ column }: { column: PreparationColumn }) {
  const { t, status, recipe, ingredient, duration, number } = useI18n();
  const headingId = `column-${column.status}`;
  return (
    <section className={`column tone-${toneOf(column.status)}`} aria-labelledby={headingId} data-testid={`column-${column.status}`}>
      <h3 id={headingId}>
        <span>{status(column.status)}</span>
        <span className="column-count">{number(column.total)}</span>
      </h3>
      {column.rows.length === 0 ? (
        <p className="muted empty">{t.nothingHere}</p>
      ) : (
        <ul className="tickets">
          {column.rows.map((row) => (
            <li key={row.id} className="ticket" data-order-id={row.id} data-recipe={row.recipe ?? undefined}>
              <div className="ticket-line">
                <span className="ticket-recipe">{row.recipe ? recipe(row.recipe) : <em>{t.choosingRecipe}</em>}</span>
                <span className="ticket-age">
                  <span className="visually-hidden">{t.age}: </span>
                  {duration(row.ageMs)}
                </span>
              </div>
              <div className="ticket-meta">
                <code title={row.id}>
                  <span className="visually-hidden">{t.order} </span>#{row.id.slice(0, 8)}
                </code>
              </div>
              {column.status === 'awaiting_ingredients' && (
                <div className="ticket-waiting">
                  {row.waitingFor.length > 0 ? (
                    <>
                      <span className="waiting-label">{t.waitingFor}:</span>
                      <ul className="chips" aria-label={t.waitingFor}>
                        {row.waitingFor.map((name) => (
                          <li key={name} className="chip chip-short" data-ingredient={name}>
                            {ingredient(name)}
                          </li>
                        ))}
                      </ul>
                    </>
                  ) : (
                    <span className="muted">{t.inLine}</span>
                  )}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {column.total > column.rows.length && <p className="more">{t.andMore(column.total - column.rows.length)}</p>}
    </section>
  );
}

function toneOf(status: PreparationColumn['status']): string {
  return status === 'awaiting_ingredients' ? 'awaiting' : status;
}
