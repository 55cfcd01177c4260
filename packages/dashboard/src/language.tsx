import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { initialLanguage, rememberLanguage, translator, type Language, type Translator } from './i18n.js';

interface LanguageContext extends Translator {
  setLanguage: (language: Language) => void;
}

const Context = createContext<LanguageContext | null>(null);

/** Provides the chosen language to every component, and remembers the choice. */
export function LanguageProvider({ children }: { children: ReactNode }) {
  const [language, setLanguage] = useState<Language>(initialLanguage);
  useEffect(() => rememberLanguage(language), [language]);
  const value = useMemo(() => ({ ...translator(language), setLanguage }), [language]);
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useI18n(): LanguageContext {
  const context = useContext(Context);
  if (!context) throw new Error('useI18n outside LanguageProvider');
  return context;
}
