/**
 * The shared vocabulary of Free Lunch: domain facts, HTTP bodies and stream messages.
 * Services speak to each other only through these schemas.
 */
export * from './domain.js';
export * from './messages.js';
export * from './http.js';
export * from './ws.js';
