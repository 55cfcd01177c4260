import { useEffect } from 'react';
import type { LiveStore } from '../live/live-store.js';
import { Charts } from './charts.js';
import { ConnectionBanner } from './connection.js';
import { Counters } from './counters.js';
import { History } from './history.js';
import { OrderPanel } from './order-panel.js';
import { Preparation } from './preparation.js';
import { Purchases } from './purchases.js';
import { Recipes } from './recipes.js';
import { Stock } from './stock.js';
import { useView } from './use-view.js';

/** The whole dashboard once the manager token is in. */
export function Board({ store, onUnauthorized }: { store: LiveStore; onUnauthorized: () => void }) {
  const view = useView(store);
  const refused = view.connection.kind === 'unauthorized';
  useEffect(() => {
    if (refused) onUnauthorized();
  }, [refused, onUnauthorized]);
  const loaded = view.snapshot.kind === 'loaded';

  return (
    <div className="board" aria-busy={!loaded}>
      <ConnectionBanner view={view} onReconnect={store.reconnectNow} />
      <div className="grid">
        <OrderPanel store={store} onUnauthorized={onUnauthorized} />
        <Counters view={view} />
        <Charts view={view} />
        <Preparation view={view} />
        <Stock view={view} />
        <Purchases view={view} />
        <History view={view} store={store} />
        <Recipes view={view} />
      </div>
    </div>
  );
}
