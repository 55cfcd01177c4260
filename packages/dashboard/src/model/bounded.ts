/** A set that forgets its oldest members past `capacity`, so a day of orders cannot fill the tab's memory. */
export class BoundedSet<T> {
  private readonly members = new Set<T>();

  constructor(private readonly capacity: number) {}

  has(value: T): boolean {
    return this.members.has(value);
  }

  add(value: T): void {
    if (this.members.has(value)) return;
    this.members.add(value);
    if (this.members.size > this.capacity) {
      const oldest = this.members.values().next().value as T;
      this.members.delete(oldest);
    }
  }
}
