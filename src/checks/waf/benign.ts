/**
 * The benign corpus: what ordinary users of an API send, chosen to look a little like attacks
 * to a careless rule (SQL words in prose, apostrophes in names, code in JSON, long free text).
 * A well-tuned WAF lets every one through; each one it blocks is a false positive.
 *
 * The first entry is the control: if it does not get the backend's normal answer, no block
 * can be told apart from a route that refuses everything, and the check stops.
 */
export interface BenignSample {
  name: string;
  value: string;
  /** JSON placement: this value for `q` instead of the string `value`. */
  json?: unknown;
}

const LONG_TEXT = Array.from(
  { length: 24 },
  (_, i) => `Paragraph ${i + 1}: the delivery window is Monday to Friday, and orders placed before noon ship the same day.`,
).join(' ');

export const BENIGN_SAMPLES: readonly BenignSample[] = [
  { name: 'plain words (control)', value: 'hello world' },
  { name: 'name with apostrophes', value: "Siobhán O'Brien-D'Arcy" },
  { name: 'sentence with SQL words', value: 'Please select a size, update your order and drop us a line from the union office.' },
  { name: 'sentence with or/and/where', value: "I'd like a table where the view is nice, or one by the window and a high chair." },
  { name: 'address with dashes', value: "Order 1234 -- shipped to 12 Rue de l'Église, 75001 Paris" },
  { name: 'prices and percentages', value: 'Total: $19.99 (incl. 20% VAT) & free shipping over 50 EUR' },
  { name: 'email address', value: 'jane.doe+news@example.com' },
  { name: 'web address', value: 'https://www.example.com/docs/getting-started?page=2&lang=en' },
  { name: 'accented text', value: 'Grüße aus Zürich: ein naïver Café-Besuch' },
  { name: 'markdown note', value: 'Use **bold** and _italics_; lists start with "- " or "1. "' },
  {
    name: 'JSON with a code snippet',
    value: 'for (let i = 0; i < items.length; i++) { total += items[i].price; }',
    json: { title: 'Summing prices', language: 'javascript', code: 'for (let i = 0; i < items.length; i++) { total += items[i].price; }' },
  },
  {
    name: 'template placeholder',
    value: 'Hello {{name}}, your order {{orderId}} is on its way.',
    json: { template: 'Hello {{name}}', vars: { name: 'Ada' } },
  },
  { name: 'long free text', value: LONG_TEXT },
];
