/**
 * `promise`, or null as soon as `abandon()` is called, whichever comes first: for a read that may
 * never settle. One per read, not one long-lived promise to race every read against, which would
 * keep a reaction per read until it settled.
 */
export function abandonable<T>(promise: Promise<T>): { result: Promise<T | null>; abandon: () => void } {
  let abandon!: () => void;
  const abandoned = new Promise<null>((resolve) => {
    abandon = () => resolve(null);
  });
  return { result: Promise.race([promise, abandoned]), abandon };
}
