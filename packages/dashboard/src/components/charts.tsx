import { useEffect, useId, useRef, useState } from 'react';
import { useI18n } from '../language.js';
import type { DashboardView } from '../live/view.js';

/** Drawn at the size it is shown, so labels stay legible from phone to desktop. */
const DEFAULT_WIDTH = 600;
const HEIGHT = 170;
const PAD = { left: 44, right: 12, top: 12, bottom: 24 };

interface Line {
  key: string;
  label: string;
  className: string;
  values: Array<number | null>;
  area?: boolean;
}

/** Throughput (placed and delivered per second) and backlog over the last minute, drawn as SVG. */
export function Charts({ view }: { view: DashboardView }) {
  const { t, number } = useI18n();
  const { series } = view;
  const recent = (values: number[]) => values.slice(-10).reduce((sum, value) => sum + value, 0) / 10;
  const backlogValues = series.backlog.filter((value): value is number => value !== null);

  return (
    <>
      <section className="card chart-card" aria-labelledby="throughput-title">
        <h2 id="throughput-title">{t.throughputTitle}</h2>
        <LineChart
          caption={t.throughputCaption}
          summary={t.chartSummary(round(recent(series.placed)), round(recent(series.delivered)))}
          lines={[
            { key: 'placed', label: t.placedPerSecond, className: 'line-placed', values: series.placed },
            { key: 'delivered', label: t.deliveredPerSecond, className: 'line-delivered', values: series.delivered },
          ]}
        />
      </section>
      <section className="card chart-card" aria-labelledby="backlog-title">
        <h2 id="backlog-title">{t.backlogTitle}</h2>
        <LineChart
          caption={t.backlogCaption}
          summary={t.backlogSummary(
            view.counts.inPreparation,
            Math.max(view.counts.inPreparation, ...backlogValues),
          )}
          lines={[{ key: 'backlog', label: t.countInPreparation, className: 'line-backlog', values: series.backlog, area: true }]}
          format={number}
        />
      </section>
    </>
  );
}

function LineChart({
  caption,
  summary,
  lines,
  format = String,
}: {
  caption: string;
  summary: string;
  lines: Line[];
  format?: (value: number) => string;
}) {
  const { t } = useI18n();
  const titleId = useId();
  const descId = useId();
  const [frame, WIDTH] = useWidth(DEFAULT_WIDTH);
  const points = lines[0]?.values.length ?? 0;
  const peak = Math.max(0, ...lines.flatMap((line) => line.values.filter((v): v is number => v !== null)));
  const top = niceCeiling(peak);
  const x = (index: number) => PAD.left + (index * (WIDTH - PAD.left - PAD.right)) / Math.max(1, points - 1);
  const y = (value: number) => HEIGHT - PAD.bottom - (value / top) * (HEIGHT - PAD.top - PAD.bottom);
  const ticks = [0, top / 2, top];

  return (
    <figure className="chart" ref={frame}>
      <figcaption>
        <span className="chart-caption">{caption}</span>
        <span className="legend">
          {lines.map((line) => (
            <span key={line.key} className={`legend-item ${line.className}`}>
              <span className="legend-swatch" aria-hidden="true" />
              {line.label}
            </span>
          ))}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby={`${titleId} ${descId}`} className="chart-svg">
        <title id={titleId}>{caption}</title>
        <desc id={descId}>{summary}</desc>
        {ticks.map((tick) => (
          <g key={tick} className="chart-grid">
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} />
            <text x={PAD.left - 8} y={y(tick)} dy="0.32em" textAnchor="end">
              {format(tick)}
            </text>
          </g>
        ))}
        <g className="chart-axis">
          <text x={x(0)} y={HEIGHT - 6} textAnchor="start">
            {t.secondsAgo(points)}
          </text>
          <text x={x((points - 1) / 2)} y={HEIGHT - 6} textAnchor="middle">
            {t.secondsAgo(Math.round(points / 2))}
          </text>
          <text x={x(points - 1)} y={HEIGHT - 6} textAnchor="end">
            {t.now}
          </text>
        </g>
        {lines.map((line) => (
          <g key={line.key} className={line.className}>
            {line.area && <path className="chart-area" d={areaPath(line.values, x, y)} />}
            <path className="chart-line" d={linePath(line.values, x, y)} />
          </g>
        ))}
      </svg>
      <p className="visually-hidden">{summary}</p>
    </figure>
  );
}

function useWidth(fallback: number) {
  const ref = useRef<HTMLElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      const measured = Math.round(entry?.contentRect.width ?? 0);
      if (measured > 0) setWidth(measured);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width] as const;
}

/** A path through the points, broken where a value is missing. */
function linePath(values: Array<number | null>, x: (i: number) => number, y: (v: number) => number): string {
  let path = '';
  let pen = false;
  values.forEach((value, index) => {
    if (value === null) {
      pen = false;
      return;
    }
    path += `${pen ? 'L' : 'M'}${x(index).toFixed(1)},${y(value).toFixed(1)}`;
    pen = true;
  });
  return path;
}

/** The area under each unbroken run of points. */
function areaPath(values: Array<number | null>, x: (i: number) => number, y: (v: number) => number): string {
  let path = '';
  let run: number[] = [];
  const close = () => {
    if (run.length > 0) {
      path += `M${x(run[0]!).toFixed(1)},${y(0).toFixed(1)}`;
      for (const index of run) path += `L${x(index).toFixed(1)},${y(values[index]!).toFixed(1)}`;
      path += `L${x(run.at(-1)!).toFixed(1)},${y(0).toFixed(1)}Z`;
    }
    run = [];
  };
  values.forEach((value, index) => (value === null ? close() : run.push(index)));
  close();
  return path;
}

/** 1, 2 or 4 × 10ⁿ at or above `value` (at least 4, so an idle chart still has a scale). */
export function niceCeiling(value: number): number {
  const target = Math.max(4, value);
  const magnitude = 10 ** Math.floor(Math.log10(target));
  for (const step of [1, 2, 4, 10]) if (step * magnitude >= target) return step * magnitude;
  return 10 * magnitude;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
