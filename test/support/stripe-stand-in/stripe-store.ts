/** A Stripe object as the API renders it. */
export type StripeObject = Record<string, unknown> & { id: string; object: string; created?: number };

/** The list resources the stand-in serves, by Stripe's `object` name. */
export const STRIPE_KINDS = [
  "customer",
  "subscription",
  "payment_intent",
  "checkout.session",
  "event",
  "webhook_endpoint",
] as const;

/** One of `STRIPE_KINDS`. */
export type StripeKind = (typeof STRIPE_KINDS)[number];

/** Where an object lives: its account (Connect) and mode. */
export interface Scope {
  account: string;
  livemode: boolean;
}

interface Entry {
  object: StripeObject;
  sequence: number;
  isDeleted: boolean;
  /** Events only: whether every webhook delivery succeeded (the `delivery_success` filter). */
  deliverySuccess: boolean;
}

/** Stripe objects per account and mode; an object exists only in its own account. */
export class StripeStore {
  private readonly entries = new Map<string, Map<string, Entry>>();
  private readonly accounts = new Set<string>();
  private sequence = 0;
  /** Each table's live entries in list order, kept until the table changes (a page must not sort 50,000). */
  private readonly sorted = new Map<string, Entry[]>();

  constructor(readonly platformAccount: string) {
    this.accounts.add(platformAccount);
  }

  /** Registers a connected account, so `Stripe-Account: <id>` is accepted. */
  addAccount(id: string): void {
    this.accounts.add(id);
  }

  /** True for the platform and every registered connected account. */
  hasAccount(id: string): boolean {
    return this.accounts.has(id);
  }

  /** Stores (or replaces) an object in `scope`; its kind is its `object` field. */
  put(object: StripeObject, scope: Scope, options: { deliverySuccess?: boolean } = {}): void {
    if (!(STRIPE_KINDS as readonly string[]).includes(object.object))
      throw new Error(`the stand-in does not serve ${object.object} objects`);
    this.addAccount(scope.account);
    const table = this.table(object.object as StripeKind, scope);
    this.sorted.delete(this.key(object.object as StripeKind, scope));
    const previous = table.get(object.id);
    table.set(object.id, {
      object: structuredClone(object),
      sequence: previous?.sequence ?? ++this.sequence,
      isDeleted: false,
      deliverySuccess: options.deliverySuccess ?? previous?.deliverySuccess ?? true,
    });
  }

  /** Marks a customer deleted: lists skip it, retrieve answers `{id, object, deleted: true}`. */
  markDeleted(kind: StripeKind, id: string, scope: Scope): void {
    const entry = this.table(kind, scope).get(id);
    if (!entry) throw new Error(`no ${kind} ${id} in ${scope.account}`);
    entry.isDeleted = true;
    this.sorted.delete(this.key(kind, scope));
  }

  /** One object of this scope, with whether it was deleted. */
  find(kind: StripeKind, id: string, scope: Scope): { object: StripeObject; isDeleted: boolean } | undefined {
    const entry = this.table(kind, scope).get(id);
    return entry ? { object: structuredClone(entry.object), isDeleted: entry.isDeleted } : undefined;
  }

  /**
   * Every live (not deleted) object of a kind in this scope, newest first as Stripe lists them. The
   * objects are the stored ones, not copies: read them, and copy what leaves the stand-in.
   */
  list(kind: StripeKind, scope: Scope): ReadonlyArray<{ object: StripeObject; deliverySuccess: boolean }> {
    const key = this.key(kind, scope);
    let entries = this.sorted.get(key);
    if (!entries) {
      entries = [...this.table(kind, scope).values()]
        .filter((entry) => !entry.isDeleted)
        .sort((a, b) => (b.object.created ?? 0) - (a.object.created ?? 0) || b.sequence - a.sequence);
      this.sorted.set(key, entries);
    }
    return entries;
  }

  /** Forgets every object and connected account. */
  clear(): void {
    this.entries.clear();
    this.sorted.clear();
    this.accounts.clear();
    this.accounts.add(this.platformAccount);
  }

  private key(kind: StripeKind, scope: Scope): string {
    return `${scope.account}|${scope.livemode ? "live" : "test"}|${kind}`;
  }

  private table(kind: StripeKind, scope: Scope): Map<string, Entry> {
    const key = this.key(kind, scope);
    let table = this.entries.get(key);
    if (!table) {
      table = new Map();
      this.entries.set(key, table);
    }
    return table;
  }
}
