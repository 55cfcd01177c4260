/** The PostgreSQL schema holding every table of the orders service. */
export const ORDERS_SCHEMA = 'orders';

/** Where orders-app writes the events it announces; the outbox relay publishes them from here. */
export const OUTBOX_TABLE = `${ORDERS_SCHEMA}.outbox`;
