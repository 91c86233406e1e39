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

/**
 * Short stand-ins for long texts (PEM certificates and keys, cipher lists), so that a memo's key
 * is a few characters instead of kilobytes to hash or compare on every use; looking a string up
 * again is cheap, as V8 keeps its hash with it. The table starts afresh when large, under a new
 * generation, so that a stand-in made before never equals one made after.
 */
export class TextIds {
  private generation = 0;
  private ids = new Map<string, string>();

  constructor(private readonly limit: number) {}

  id(text: string): string {
    let id = this.ids.get(text);
    if (id === undefined) {
      if (this.ids.size >= this.limit) {
        this.generation++;
        this.ids = new Map();
      }
      id = `${this.generation}.${this.ids.size}`;
      this.ids.set(text, id);
    }
    return id;
  }
}
