import { useSyncExternalStore } from 'react';
import type { LiveStore } from '../live/live-store.js';
import type { DashboardView } from '../live/view.js';

/** The store's current view; re-renders when the store rebuilds it (at most once per frame). */
export function useView(store: LiveStore): DashboardView {
  return useSyncExternalStore(store.subscribe, store.getView);
}
