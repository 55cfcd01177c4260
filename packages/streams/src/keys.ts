/** The Redis key of a stream: the deployment's key prefix followed by the stream name. */
export function streamKey(prefix: string, stream: string): string {
  return `${prefix}${stream}`;
}

/** The Redis key of the stream holding messages of `stream` that could not be handled. */
export function deadLetterKey(prefix: string, stream: string): string {
  return `${prefix}${stream}.dead-letter`;
}
