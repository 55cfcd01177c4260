import { describe, expect, it } from 'vitest';
import { streamNames } from '@free-lunch/contracts';
import { BACKLOG_METRIC, BACKLOG_NAMESPACE, DEAD_LETTER_METRIC } from '../runtime/backlog-contract.js';
import { backlogRecord, deadLetterRecord, parseGroupStreams } from '../runtime/backlog-metric.js';

const known = Object.values(streamNames);

describe('the stream backlog metric', () => {
  it('when two of a group\'s streams hold dead letters, then the record carries their sum as FreeLunch/DeadLetters for the service', () => {
    const record = deadLetterRecord(
      'kitchen-app',
      [
        { stream: 'orders.placed', count: 2 },
        { stream: 'inventory.ingredients-dispatched', count: 1 },
      ],
      new Date('2030-01-02T03:04:05Z'),
    );
    expect(record._aws.CloudWatchMetrics).toEqual([
      { Namespace: BACKLOG_NAMESPACE, Dimensions: [['Service']], Metrics: [{ Name: DEAD_LETTER_METRIC, Unit: 'Count' }] },
    ]);
    expect(record).toMatchObject({ Service: 'kitchen-app', DeadLetters: 3 });
  });

  it('when a group is behind on two streams, then the record carries their sum as FreeLunch/StreamBacklog for the service', () => {
    const record = backlogRecord(
      'kitchen-app',
      [
        { stream: 'orders.placed', group: 'kitchen', lag: 120, pending: 30 },
        { stream: 'inventory.ingredients-dispatched', group: 'kitchen', lag: 0, pending: 7 },
      ],
      new Date('2030-01-02T03:04:05Z'),
    );
    expect(record._aws).toEqual({
      Timestamp: Date.parse('2030-01-02T03:04:05Z'),
      CloudWatchMetrics: [
        { Namespace: BACKLOG_NAMESPACE, Dimensions: [['Service']], Metrics: [{ Name: BACKLOG_METRIC, Unit: 'Count' }] },
      ],
    });
    expect(record.Service).toBe('kitchen-app');
    expect(record.StreamBacklog).toBe(157);
  });

  it('when the reporter is told which streams to watch, then it takes stream:group pairs of known streams', () => {
    expect(parseGroupStreams('orders.placed:kitchen, inventory.ingredients-dispatched:kitchen', known)).toEqual([
      { stream: 'orders.placed', group: 'kitchen' },
      { stream: 'inventory.ingredients-dispatched', group: 'kitchen' },
    ]);
  });

  it('when a stream is misspelt or a group missing, then the reporter refuses to start instead of reporting zero forever', () => {
    expect(() => parseGroupStreams('orders.plaecd:kitchen', known)).toThrow(/orders\.plaecd.*not a Free Lunch stream/);
    expect(() => parseGroupStreams('orders.placed', known)).toThrow(/<stream>:<group>/);
    expect(() => parseGroupStreams(' , ', known)).toThrow(/names no stream/);
  });
});
