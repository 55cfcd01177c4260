import { useState } from 'react';
import type { OrderPage } from '@free-lunch/contracts';
import { useI18n } from '../language.js';
import type { LiveStore } from '../live/live-store.js';
import { HISTORY_PAGE_SIZE, type DashboardView } from '../live/view.js';
import type { DeliveredOrder } from '../model/restaurant.js';

type Browse = { kind: 'live' } | { kind: 'page'; pages: OrderPage[]; index: number };

/**
 * Delivered orders, newest placed first like `GET /orders?status=delivered`. The first page is live
 * (deliveries appear as they happen); older pages are read from the API and stay still while read.
 */
export function History({ view, store }: { view: DashboardView; store: LiveStore }) {
  const { t, recipe, time, duration } = useI18n();
  const [browse, setBrowse] = useState<Browse>({ kind: 'live' });
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(false);

  const rows: DeliveredOrder[] =
    browse.kind === 'live' ? view.recentDelivered : browse.pages[browse.index]!.items.map(fromApi);
  const pageNumber = browse.kind === 'live' ? 1 : browse.index + 2;
  const hasOlder =
    browse.kind === 'live' ? view.counts.delivered > HISTORY_PAGE_SIZE : browse.pages[browse.index]!.nextCursor !== null;

  const load = async (next: () => Promise<Browse>) => {
    setBusy(true);
    setFailed(false);
    try {
      setBrowse(await next());
    } catch {
      setFailed(true);
    } finally {
      setBusy(false);
    }
  };

  const older = () =>
    load(async () => {
      if (browse.kind === 'live') {
        // The live page has moved on since it was read: start the cursor chain from the top now.
        const first = await store.historyPage(null);
        if (!first.nextCursor) return browse;
        return { kind: 'page', pages: [await store.historyPage(first.nextCursor)], index: 0 };
      }
      if (browse.pages[browse.index + 1]) return { ...browse, index: browse.index + 1 };
      const page = await store.historyPage(browse.pages[browse.index]!.nextCursor);
      return { kind: 'page', pages: [...browse.pages, page], index: browse.index + 1 };
    });

  const newer = () => setBrowse(browse.kind === 'page' && browse.index > 0 ? { ...browse, index: browse.index - 1 } : { kind: 'live' });

  return (
    <section className="card history" aria-labelledby="history-title">
      <div className="card-head">
        <h2 id="history-title">{t.historyTitle}</h2>
        <span className="card-tag">{browse.kind === 'live' ? t.historyLive : t.historyPage(pageNumber)}</span>
      </div>
      {rows.length === 0 ? (
        <p className="muted">{t.historyEmpty}</p>
      ) : (
        <div className="table-scroll">
          <table className="table" data-testid="history">
            <thead>
              <tr>
                <th scope="col">{t.colOrder}</th>
                <th scope="col">{t.colRecipe}</th>
                <th scope="col" className="wide-only">
                  {t.colPlaced}
                </th>
                <th scope="col" className="narrow-hidden">
                  {t.colDelivered}
                </th>
                <th scope="col" className="numeric">
                  {t.colTook}
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id} data-order-id={row.id}>
                  <td>
                    <code title={row.id}>#{row.id.slice(0, 8)}</code>
                  </td>
                  <td>{row.recipe ? recipe(row.recipe) : '—'}</td>
                  <td className="numeric wide-only">{row.placedAt ? time(row.placedAt) : '—'}</td>
                  <td className="numeric narrow-hidden">{time(row.deliveredAt)}</td>
                  <td className="numeric">{row.placedAt ? duration(row.deliveredAt - row.placedAt) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {failed && (
        <p className="banner banner-error" role="alert">
          {t.historyLoadFailed}
        </p>
      )}
      <nav className="pager" aria-label={t.historyTitle}>
        <button type="button" className="button button-small" onClick={newer} disabled={browse.kind === 'live' || busy}>
          {browse.kind === 'page' && browse.index === 0 ? t.historyNewest : t.historyNewer}
        </button>
        <span className="pager-status" aria-live="polite">
          {t.historyPageOf(pageNumber, Math.max(1, Math.ceil(view.counts.delivered / HISTORY_PAGE_SIZE)))}
        </span>
        <button type="button" className="button button-small" onClick={() => void older()} disabled={!hasOlder || busy}>
          {t.historyOlder}
        </button>
      </nav>
    </section>
  );
}

function fromApi(order: OrderPage['items'][number]): DeliveredOrder {
  const placedAt = Date.parse(order.createdAt);
  return { id: order.id, recipe: order.recipe, placedAt, deliveredAt: Date.parse(order.updatedAt), listedAt: placedAt };
}
