import { useI18n } from '../language.js';
import type { LiveStore } from '../live/live-store.js';
import type { DashboardView } from '../live/view.js';
import { useView } from './use-view.js';

/** Live / connecting / disconnected, always visible in the header. */
export function ConnectionPill({ store }: { store: LiveStore }) {
  const { t } = useI18n();
  const { connection } = useView(store);
  const [kind, label] =
    connection.kind === 'live'
      ? ['live', t.connectionLive]
      : connection.kind === 'reconnecting' || connection.kind === 'unauthorized' || connection.kind === 'stopped'
        ? ['down', t.connectionLost]
        : ['connecting', t.connectionConnecting];
  return (
    <p className={`pill pill-${kind}`} role="status" data-testid="connection">
      <span className="pill-dot" aria-hidden="true" />
      {label}
    </p>
  );
}

/** What is wrong with the connection or the first load, and what the page is doing about it. */
export function ConnectionBanner({ view, onReconnect }: { view: DashboardView; onReconnect: () => void }) {
  const { t } = useI18n();
  if (view.connection.kind === 'reconnecting') {
    const seconds = Math.max(0, Math.ceil((view.connection.retryAt - view.now) / 1000));
    return (
      <div className="banner banner-warning banner-sticky" role="alert" data-testid="connection-lost">
        <span>{t.connectionLostDetail(seconds, view.connection.attempt)}</span>
        <button type="button" className="button button-small" onClick={onReconnect}>
          {t.connectionRetryNow}
        </button>
      </div>
    );
  }
  if (view.snapshot.kind === 'failed') {
    return (
      <p className="banner banner-error" role="alert">
        {t.snapshotFailed(view.snapshot.message)}
      </p>
    );
  }
  if (view.snapshot.kind !== 'loaded' && view.connection.kind === 'live') {
    return (
      <p className="banner" role="status">
        {t.loadingSnapshot}
      </p>
    );
  }
  return null;
}
