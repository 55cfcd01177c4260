import { Duration, Fn } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BACKLOG_DIMENSION, BACKLOG_NAMESPACE, DEAD_LETTER_METRIC } from '../runtime/backlog-contract.js';
import type { AppService } from './app-service.js';
import { backlogMetric } from './scaling.js';

/** Thresholds the alarm table of docs/deploy-aws.md explains. */
export const ALARM_THRESHOLDS = {
  /** 5xx answers in 5 minutes, from the load balancer itself or from the targets. */
  http5xx: 10,
  /** Entries a group has not finished, for 10 minutes: scaling out has not caught up. */
  backlog: 10_000,
  /** Redis memory (% of maxmemory): writes are refused at 100 % (noeviction). */
  redisMemoryPercent: 80,
  rdsCpuPercent: 80,
  rdsFreeStorageBytes: 2 * 1024 ** 3,
  /** db.t4g.medium allows about 400; the pools take at most 10 a task × 26 tasks. */
  rdsConnections: 300,
} as const;

export interface MonitoringProps {
  /** The operator's topic; without one, a topic of the stack's own that nobody is subscribed to. */
  alarmTopicArn?: string;
  services: AppService[];
  /** Services whose backlog reporter publishes StreamBacklog and DeadLetters. */
  consumers: AppService[];
  loadBalancer?: elbv2.ApplicationLoadBalancer;
  targetGroups: elbv2.ApplicationTargetGroup[];
  redis: elasticache.CfnReplicationGroup;
  redisNodes: number;
  database: rds.DatabaseInstance;
}

/** Every alarm of the system, each notifying one SNS topic when it fires and when it clears. */
export class Monitoring extends Construct {
  readonly topic: sns.ITopic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = props.alarmTopicArn
      ? sns.Topic.fromTopicArn(this, 'Topic', props.alarmTopicArn)
      : new sns.Topic(this, 'Topic', {
          displayName: 'Free Lunch alarms (demo: subscribe to be told)',
          enforceSSL: true,
          masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
        });
    const fiveMinutes = Duration.minutes(5);
    const minute = Duration.minutes(1);

    if (props.loadBalancer) {
      const elb5xx = props.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: fiveMinutes, statistic: 'Sum' });
      this.alarm('LoadBalancer5xx', elb5xx, ALARM_THRESHOLDS.http5xx, 'the load balancer answered 5xx itself (no healthy target, timeouts)');
      const target5xx = props.loadBalancer.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: fiveMinutes, statistic: 'Sum' });
      this.alarm('Targets5xx', target5xx, ALARM_THRESHOLDS.http5xx, 'the services answered 5xx (real server faults)');
    }
    for (const group of props.targetGroups) {
      const unhealthy = group.metrics.unhealthyHostCount({ period: minute, statistic: 'Maximum' });
      this.alarm(`Unhealthy${group.node.id}`, unhealthy, 1, `a target of ${group.node.id} fails /ready`, { evaluationPeriods: 3 });
    }
    for (const app of props.services) {
      const name = app.container.containerName;
      // Container Insights: tasks that should run but do not (crashing, failing health checks, no capacity).
      const insights = (metricName: string) =>
        new cloudwatch.Metric({
          namespace: 'ECS/ContainerInsights',
          metricName,
          dimensionsMap: { ClusterName: app.service.cluster.clusterName, ServiceName: app.service.serviceName },
          statistic: 'Average',
          period: minute,
        });
      const missing = new cloudwatch.MathExpression({
        expression: 'desired - running',
        usingMetrics: { desired: insights('DesiredTaskCount'), running: insights('RunningTaskCount') },
        period: minute,
        label: `${name}: tasks missing`,
      });
      this.alarm(`TasksMissing-${name}`, missing, 1, `fewer ${name} tasks run than desired for 5 minutes (restarts)`, { evaluationPeriods: 5 });
    }
    for (const app of props.consumers) {
      const name = app.container.containerName;
      const backlog = backlogMetric(name);
      this.alarm(`Backlog-${name}`, backlog, ALARM_THRESHOLDS.backlog, `${name}'s stream backlog stays high`, { evaluationPeriods: 10 });
      const deadLetters = new cloudwatch.Metric({
        namespace: BACKLOG_NAMESPACE,
        metricName: DEAD_LETTER_METRIC,
        dimensionsMap: { [BACKLOG_DIMENSION]: name },
        statistic: 'Maximum',
        period: fiveMinutes,
      });
      this.alarm(`DeadLetters-${name}`, deadLetters, 0, `a message to ${name} was dead-lettered`, {
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      });
    }
    // Per node of the replication group: `<group id>-001`, `-002`, ...
    for (let node = 1; node <= props.redisNodes; node++) {
      const cacheClusterId = Fn.join('-', [props.redis.ref, String(node).padStart(3, '0')]);
      const redisMetric = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({ namespace: 'AWS/ElastiCache', metricName, dimensionsMap: { CacheClusterId: cacheClusterId }, statistic, period: fiveMinutes });
      this.alarm(`RedisMemory${node}`, redisMetric('DatabaseMemoryUsagePercentage', 'Maximum'), ALARM_THRESHOLDS.redisMemoryPercent, 'Redis memory is filling; at 100 % writes are refused');
      this.alarm(`RedisEvictions${node}`, redisMetric('Evictions', 'Sum'), 0, 'Redis evicted keys, which noeviction should make impossible', {
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      });
    }
    const { database } = props;
    this.alarm('DatabaseCpu', database.metricCPUUtilization({ period: fiveMinutes, statistic: 'Average' }), ALARM_THRESHOLDS.rdsCpuPercent, 'PostgreSQL CPU high for 15 minutes', { evaluationPeriods: 3 });
    this.alarm('DatabaseFreeStorage', database.metricFreeStorageSpace({ period: fiveMinutes, statistic: 'Minimum' }), ALARM_THRESHOLDS.rdsFreeStorageBytes, 'PostgreSQL storage nearly full', {
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    });
    this.alarm('DatabaseConnections', database.metricDatabaseConnections({ period: fiveMinutes, statistic: 'Maximum' }), ALARM_THRESHOLDS.rdsConnections, 'PostgreSQL connections near the limit');
  }

  private alarm(
    id: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    description: string,
    options: { evaluationPeriods?: number; comparisonOperator?: cloudwatch.ComparisonOperator } = {},
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      comparisonOperator: options.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data is no news (no traffic, no dead letters reported yet), not an emergency.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Free Lunch: ${description}. See docs/deploy-aws.md, Alarms.`,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}

