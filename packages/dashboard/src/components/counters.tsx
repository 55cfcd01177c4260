import { useI18n } from '../language.js';
import type { DashboardView } from '../live/view.js';

/** The numbers a manager glances at: placed, in preparation (by status) and delivered. */
export function Counters({ view }: { view: DashboardView }) {
  const { t, number, status } = useI18n();
  const { counts } = view;
  return (
    <section className="card counters" aria-labelledby="counters-title">
      <h2 id="counters-title">{t.countersTitle}</h2>
      <dl className="counter-grid">
        <Counter label={t.countPlaced} value={number(counts.placed)} testId="count-placed" />
        <Counter label={t.countInPreparation} value={number(counts.inPreparation)} testId="count-in-preparation" tone="backlog" />
        <Counter label={t.countDelivered} value={number(counts.delivered)} testId="count-delivered" tone="delivered" />
        <Counter label={status('queued')} value={number(counts.queued)} testId="count-queued" small tone="queued" />
        <Counter
          label={status('awaiting_ingredients')}
          value={number(counts.awaiting_ingredients)}
          testId="count-awaiting"
          small
          tone="awaiting"
        />
        <Counter label={status('cooking')} value={number(counts.cooking)} testId="count-cooking" small tone="cooking" />
      </dl>
    </section>
  );
}

function Counter(props: { label: string; value: string; testId: string; small?: boolean; tone?: string }) {
  return (
    <div className={`counter${props.small ? ' counter-small' : ''}${props.tone ? ` tone-${props.tone}` : ''}`}>
      <dt>{props.label}</dt>
      <dd data-testid={props.testId}>{props.value}</dd>
    </div>
  );
}
