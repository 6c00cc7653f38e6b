const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/** Salesforce's 3-character case-safe suffix turning a 15-character id into an 18-character one. */
export function caseSafeSuffix(id15: string): string {
  let suffix = "";
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const char = id15.charAt(chunk * 5 + i);
      if (char >= "A" && char <= "Z") bits |= 1 << i;
    }
    suffix += SUFFIX.charAt(bits);
  }
  return suffix;
}

/** Hands out realistic 18-character ids: key prefix, pod "000", a base-62 counter, the suffix. */
export class IdGenerator {
  private counter = 0;
  constructor(private readonly seed = Math.floor(Math.random() * 1000)) {}

  /** The next id for an object whose key prefix is `prefix` (3 characters, e.g. `a01`). */
  next(prefix: string): string {
    let n = this.seed * 1_000_000 + ++this.counter;
    let body = "";
    for (let i = 0; i < 9; i++) {
      body = BASE62.charAt(n % 62) + body;
      n = Math.floor(n / 62);
    }
    const id15 = `${prefix}0O0${body}`;
    return id15 + caseSafeSuffix(id15);
  }
}

/** Key prefixes for custom objects in definition order: a01, a02, ... */
export function customObjectKeyPrefix(index: number): string {
  return `a${String(index + 1).padStart(2, "0")}`;
}
