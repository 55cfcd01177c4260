import { useId, useState, type FormEvent } from 'react';
import { useI18n } from '../language.js';

/** Asks for the manager token; says so plainly when the last one was refused. */
export function TokenGate({ refused, onSubmit }: { refused: boolean; onSubmit: (token: string) => void }) {
  const { t } = useI18n();
  const [value, setValue] = useState('');
  const inputId = useId();
  const hintId = useId();
  const errorId = useId();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const token = value.trim();
    if (token) onSubmit(token);
  };

  return (
    <section className="gate card" aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`}>{t.tokenTitle}</h2>
      <p>{t.tokenIntro}</p>
      {refused && (
        <p id={errorId} className="banner banner-error" role="alert">
          {t.tokenWrong}
        </p>
      )}
      <form onSubmit={submit} className="gate-form">
        <label htmlFor={inputId}>{t.tokenLabel}</label>
        <input
          id={inputId}
          name="manager-token"
          type="password"
          autoComplete="current-password"
          required
          autoFocus
          value={value}
          onChange={(event) => setValue(event.target.value)}
          aria-invalid={refused || undefined}
          aria-describedby={refused ? `${errorId} ${hintId}` : hintId}
        />
        <p id={hintId} className="hint">
          {t.tokenHint}
        </p>
        <button type="submit" className="button button-primary">
          {t.tokenSubmit}
        </button>
      </form>
    </section>
  );
}
