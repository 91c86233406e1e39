/**
 * A bounded memo for values that never change once made (parsed certificates, signature
 * verdicts, TLS contexts, loaded identities): a run asks for the same few again and again.
 * When full, the oldest entry goes.
 */
export class Remembered<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly limit: number) {}

  get(key: K, make: () => V): V {
    if (this.entries.has(key)) return this.entries.get(key)!;
    const value = make();
    if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
    return value;
  }
}
