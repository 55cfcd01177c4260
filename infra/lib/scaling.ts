import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { BACKLOG_DIMENSION, BACKLOG_METRIC, BACKLOG_NAMESPACE } from '../runtime/backlog-contract.js';
import type { AppService } from './app-service.js';

/**
 * `FreeLunch/StreamBacklog{Service=<name>}`: entries the service's consumer group has not
 * finished, as its backlog reporters publish it. Every task reports the same group-wide number,
 * so the maximum over a minute is the backlog, whatever the task count.
 */
export function backlogMetric(service: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: BACKLOG_NAMESPACE,
    metricName: BACKLOG_METRIC,
    dimensionsMap: { [BACKLOG_DIMENSION]: service },
    statistic: cloudwatch.Stats.MAXIMUM,
    period: Duration.minutes(1),
  });
}

/**
 * Thresholds of the backlog step scaling. A consumer takes 500 entries per read and handles a
 * batch in one transaction, so a backlog under a few hundred is work in hand, not a queue.
 */
export const BACKLOG_STEPS = {
  /** At or below this for 2 minutes: one task fewer. */
  scaleInAtMost: 50,
  /** Above this for 2 minutes: one more task; above `scaleOutFastAbove`, three more. */
  scaleOutAbove: 1_000,
  scaleOutFastAbove: 10_000,
} as const;

/**
 * Step scaling on the stream backlog: kitchen and inventory scale out as consumer-group members
 * when work piles up and back in when it is drained. Scaling in stops at `min`; a task going away
 * leaves its pending entries to be reclaimed (XAUTOCLAIM) by the others.
 */
export function scaleOnBacklog(app: AppService, capacity: { min: number; max: number }): void {
  const scaling = app.service.autoScaleTaskCount({ minCapacity: capacity.min, maxCapacity: capacity.max });
  scaling.scaleOnMetric('Backlog', {
    metric: backlogMetric(app.container.containerName),
    adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
    scalingSteps: [
      { upper: BACKLOG_STEPS.scaleInAtMost, change: -1 },
      { lower: BACKLOG_STEPS.scaleOutAbove, change: +1 },
      { lower: BACKLOG_STEPS.scaleOutFastAbove, change: +3 },
    ],
    // Two minutes either way: a burst that one batch absorbs does not move the task count.
    evaluationPeriods: 2,
    cooldown: Duration.seconds(120),
  });
}

/** orders-app answers HTTP and the WebSocket: it follows CPU. */
export function scaleOnCpu(app: AppService, capacity: { min: number; max: number }): void {
  app.service
    .autoScaleTaskCount({ minCapacity: capacity.min, maxCapacity: capacity.max })
    .scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });
}
