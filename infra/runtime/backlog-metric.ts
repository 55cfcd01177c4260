import type { StreamName } from '@free-lunch/contracts';
import type { DeadLetterCount, StreamBacklog } from '@free-lunch/streams';
import { BACKLOG_DIMENSION, BACKLOG_METRIC, BACKLOG_NAMESPACE, DEAD_LETTER_METRIC } from './backlog-contract.js';

/** A stream a consumer group reads, as the reporter is told it: `orders.placed:kitchen`. */
export interface GroupStream {
  stream: StreamName;
  group: string;
}

/**
 * One CloudWatch embedded-metric-format record: printed as one JSON line to a log stream that the
 * awslogs driver ships, CloudWatch Logs turns it into a `FreeLunch/StreamBacklog` datapoint with
 * the `Service` dimension. The per-stream breakdown rides along as plain fields, for Logs Insights.
 */
export interface BacklogRecord {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: 'Count' }>;
    }>;
  };
  [BACKLOG_DIMENSION]: string;
  [BACKLOG_METRIC]: number;
  streams: Array<{ stream: string; group: string; lag: number; pending: number }>;
}

/** The backlog of one service's group(s) at `at`, as the record CloudWatch extracts the metric from. */
export function backlogRecord(service: string, backlog: StreamBacklog[], at: Date): BacklogRecord {
  return {
    _aws: {
      Timestamp: at.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: BACKLOG_NAMESPACE,
          Dimensions: [[BACKLOG_DIMENSION]],
          Metrics: [{ Name: BACKLOG_METRIC, Unit: 'Count' }],
        },
      ],
    },
    [BACKLOG_DIMENSION]: service,
    [BACKLOG_METRIC]: backlog.reduce((total, { lag, pending }) => total + lag + pending, 0),
    streams: backlog.map(({ stream, group, lag, pending }) => ({ stream, group, lag, pending })),
  };
}

/**
 * The dead letters of the streams a service's group reads, as a second record (the `FreeLunch/DeadLetters`
 * metric, same `Service` dimension): any above zero is a message nobody will handle until a person looks.
 */
export function deadLetterRecord(service: string, counts: DeadLetterCount[], at: Date) {
  return {
    _aws: {
      Timestamp: at.getTime(),
      CloudWatchMetrics: [
        { Namespace: BACKLOG_NAMESPACE, Dimensions: [[BACKLOG_DIMENSION]], Metrics: [{ Name: DEAD_LETTER_METRIC, Unit: 'Count' as const }] },
      ],
    },
    [BACKLOG_DIMENSION]: service,
    [DEAD_LETTER_METRIC]: counts.reduce((total, { count }) => total + count, 0),
    deadLetters: counts.map(({ stream, count }) => ({ stream, count })),
  };
}

/**
 * Parses `orders.placed:kitchen,inventory.ingredients-dispatched:kitchen` against the known stream
 * names, so a typo fails the reporter at start-up instead of reporting a backlog of zero forever.
 */
export function parseGroupStreams(value: string, known: readonly string[]): GroupStream[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('names no stream');
  return entries.map((entry) => {
    const [stream, group, ...rest] = entry.split(':');
    if (!stream || !group || rest.length > 0) throw new Error(`"${entry}" is not <stream>:<group>`);
    if (!known.includes(stream)) throw new Error(`"${stream}" is not a Free Lunch stream (${known.join(', ')})`);
    return { stream: stream as StreamName, group };
  });
}
