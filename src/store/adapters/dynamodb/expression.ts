/**
 * Placeholders for one DynamoDB request: every attribute name goes through
 * `#nN` (so reserved words like `status` need no thought) and every value
 * through `:vN`.
 *
 * @example
 * const e = new Expression();
 * const condition = `${e.name('turn')} = ${e.value(3)}`;
 * await doc.send(new UpdateCommand({ ..., ConditionExpression: condition, ...e.attributes() }));
 */
export class Expression {
  readonly #names = new Map<string, string>();
  readonly #values: Record<string, unknown> = {};
  #valueCount = 0;

  /** The placeholder of attribute `attr`. */
  name(attr: string): string {
    let placeholder = this.#names.get(attr);
    if (placeholder === undefined) {
      placeholder = `#n${this.#names.size}`;
      this.#names.set(attr, placeholder);
    }
    return placeholder;
  }

  /** A placeholder bound to `value`. */
  value(value: unknown): string {
    const placeholder = `:v${this.#valueCount++}`;
    this.#values[placeholder] = value;
    return placeholder;
  }

  /** A projection expression fetching only `attrs`. */
  projection(attrs: readonly string[]): string {
    return attrs.map((attr) => this.name(attr)).join(', ');
  }

  /** The request members for the placeholders used; DynamoDB refuses empty maps, so those are left out. */
  attributes(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, unknown>;
  } {
    const out: {
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues?: Record<string, unknown>;
    } = {};
    if (this.#names.size > 0) {
      out.ExpressionAttributeNames = Object.fromEntries([...this.#names].map(([attr, ph]) => [ph, attr]));
    }
    if (this.#valueCount > 0) out.ExpressionAttributeValues = { ...this.#values };
    return out;
  }
}
