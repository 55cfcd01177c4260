/**
 * The CloudWatch metric kitchen and inventory scale on. One number per service: how many stream
 * entries its consumer group has not finished (unread lag plus read-but-unacknowledged pending),
 * summed over the streams the group reads. Published every BACKLOG_INTERVAL_MS by the backlog
 * reporter that runs next to each service task, as CloudWatch embedded metric format log lines.
 *
 * No dependencies: the CDK app and the reporter both import it.
 */
export const BACKLOG_NAMESPACE = 'FreeLunch';
export const BACKLOG_METRIC = 'StreamBacklog';
/** The one dimension: the service whose consumer group the backlog belongs to. */
export const BACKLOG_DIMENSION = 'Service';
/** Dead letters waiting in the `<stream>.dead-letter` streams of the streams a service's group reads (XLEN, summed). */
export const DEAD_LETTER_METRIC = 'DeadLetters';
