import { useCallback, useEffect, useState } from 'react';
import type { DashboardConfig } from '@free-lunch/contracts';
import { DashboardApi, loadDashboardConfig } from './api.js';
import { Board } from './components/board.js';
import { Header } from './components/header.js';
import { TokenGate } from './components/token-gate.js';
import { safeStorage } from './i18n.js';
import { LanguageProvider, useI18n } from './language.js';
import { LiveStore } from './live/live-store.js';

const TOKEN_KEY = 'free-lunch.manager-token';
const CONFIG_RETRY_MS = 3_000;

type ConfigState = { kind: 'loading' } | { kind: 'loaded'; config: DashboardConfig } | { kind: 'failed'; message: string };

export function App() {
  return (
    <LanguageProvider>
      <Dashboard />
    </LanguageProvider>
  );
}

/** Asks for the manager token once per tab, then shows the restaurant live until it is refused. */
function Dashboard() {
  const { t } = useI18n();
  const [token, setToken] = useState<string | null>(() => safeStorage(() => sessionStorage.getItem(TOKEN_KEY)));
  const [tokenRefused, setTokenRefused] = useState(false);
  const [config, setConfig] = useState<ConfigState>({ kind: 'loading' });
  const [store, setStore] = useState<LiveStore | null>(null);

  useEffect(() => {
    let cancelled = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      loadDashboardConfig().then(
        (loaded) => !cancelled && setConfig({ kind: 'loaded', config: loaded }),
        (error: Error) => {
          if (cancelled) return;
          setConfig({ kind: 'failed', message: error.message });
          retry = setTimeout(() => void load(), CONFIG_RETRY_MS);
        },
      );
    void load();
    return () => {
      cancelled = true;
      clearTimeout(retry);
    };
  }, []);

  useEffect(() => {
    if (!token || config.kind !== 'loaded') return;
    const live = new LiveStore(new DashboardApi(config.config), token, webSocketUrl());
    live.start();
    // eslint-disable-next-line react-hooks/set-state-in-effect -- the store is a connection this effect opens and closes; state hands it to render
    setStore(live);
    return () => {
      live.stop();
      setStore(null);
    };
  }, [token, config]);

  const signIn = useCallback((entered: string) => {
    safeStorage(() => sessionStorage.setItem(TOKEN_KEY, entered));
    setTokenRefused(false);
    setToken(entered);
  }, []);

  const signOut = useCallback((refused: boolean) => {
    safeStorage(() => sessionStorage.removeItem(TOKEN_KEY));
    setTokenRefused(refused);
    setToken(null);
  }, []);

  const onRefused = useCallback(() => signOut(true), [signOut]);
  const changeToken = useCallback(() => signOut(false), [signOut]);

  return (
    <>
      <a className="skip-link" href="#main">
        {t.skipToContent}
      </a>
      <Header store={store} onSignOut={token ? changeToken : undefined} />
      <main id="main" tabIndex={-1}>
        {config.kind === 'failed' ? (
          <p className="banner banner-error" role="alert">
            {t.configFailed(config.message)}
          </p>
        ) : !token ? (
          <TokenGate refused={tokenRefused} onSubmit={signIn} />
        ) : store ? (
          <Board store={store} onUnauthorized={onRefused} />
        ) : (
          <p className="muted" role="status">
            {t.connectionConnecting}
          </p>
        )}
      </main>
    </>
  );
}

function webSocketUrl(): string {
  const url = new URL('/ws', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}
