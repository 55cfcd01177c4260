import { languages, type Language } from '../i18n.js';
import { useI18n } from '../language.js';
import type { LiveStore } from '../live/live-store.js';
import { ConnectionPill } from './connection.js';

const languageShort: Record<Language, string> = { en: 'EN', 'es-CO': 'ES' };

export function Header({ store, onSignOut }: { store: LiveStore | null; onSignOut?: () => void }) {
  const { t, language, setLanguage } = useI18n();
  return (
    <header className="topbar">
      <div className="brand">
        <svg className="brand-mark" viewBox="0 0 32 32" aria-hidden="true">
          <circle cx="16" cy="16" r="15" />
          <path d="M8 15h16a8 8 0 0 1-16 0z" />
          <path d="M12 8c0 2 2 2 2 4M17 7c0 2 2 2 2 4" />
        </svg>
        <div>
          <p className="brand-name">{t.title}</p>
          <p className="brand-sub">{t.subtitle}</p>
        </div>
      </div>
      <div className="topbar-tools">
        {store && <ConnectionPill store={store} />}
        <div className="segmented" role="group" aria-label={t.languageLabel}>
          {languages.map((option) => (
            <button
              key={option}
              type="button"
              lang={option}
              aria-pressed={language === option}
              title={translatedName(option)}
              onClick={() => setLanguage(option)}
            >
              <span aria-hidden="true">{languageShort[option]}</span>
              <span className="visually-hidden">{translatedName(option)}</span>
            </button>
          ))}
        </div>
        {onSignOut && (
          <button type="button" className="button button-quiet" onClick={onSignOut}>
            {t.signOut}
          </button>
        )}
      </div>
    </header>
  );
}

function translatedName(language: Language): string {
  return language === 'en' ? 'English' : 'Español (Colombia)';
}
