import { streamNames, type StreamName } from '@free-lunch/contracts';

/**
 * The last-resort cap (XADD MAXLEN ~) of a work stream, one a consumer group reads. Work streams are
 * trimmed by age by the {@link StreamJanitor}, which never drops what a group has yet to finish; this
 * cap only bites when a group has stopped reading for long, or when more than a million entries
 * arrive within the retention. Then it drops the oldest entries, read or not, so that Redis keeps
 * accepting writes instead of refusing every one once its memory is full. What it
 * drops is not lost: PostgreSQL is the system of record, and the orders reconciler re-announces
 * every order that stops making progress, which re-drives whichever step the dropped entry was for.
 */
export const WORK_STREAM_MAX_LENGTH = 1_000_000;

/**
 * The cap of a stream only the live view reads, tailing it without a group. Nobody has to finish
 * these entries; they are kept for the dashboard's resume, which refuses a position older than the
 * stream's first entry. Ten thousand is more than ten minutes (WS_MAX_REPLAY_AGE_MS) of the news of
 * ordinary use; in a busier spell a dashboard away for long starts over instead.
 */
export const LIVE_STREAM_MAX_LENGTH = 10_000;

/**
 * Each stream's XADD cap. Listing every stream makes whoever adds one decide which kind it is.
 * `kitchen.order-status-changed` feeds the live view too, but orders-app's group reads it: a work stream.
 */
export const STREAM_MAX_LENGTHS: Record<StreamName, number> = {
  [streamNames.orderPlaced]: WORK_STREAM_MAX_LENGTH,
  [streamNames.ingredientsRequested]: WORK_STREAM_MAX_LENGTH,
  [streamNames.ingredientsDispatched]: WORK_STREAM_MAX_LENGTH,
  [streamNames.orderStatusChanged]: WORK_STREAM_MAX_LENGTH,
  [streamNames.stockChanged]: LIVE_STREAM_MAX_LENGTH,
  [streamNames.purchaseRecorded]: LIVE_STREAM_MAX_LENGTH,
};
