// The JavaScript evaluator agrees with every golden vector (make test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { bucket, evaluate, parse } from "./evaluate.mjs";

const golden = JSON.parse(readFileSync(new URL("../testdata/golden.json", import.meta.url), "utf8"));

test("buckets computed independently (Python hashlib)", () => {
  for (const b of golden.buckets) {
    assert.equal(bucket(b.key, b.user_id), b.bucket, `${b.key}:${b.user_id}`);
  }
});

for (const c of golden.cases) {
  test(c.name, () => {
    const flags = new Map();
    for (const f of c.flags ?? []) flags.set(f.key, parse(f));
    const lookup = c.flags ? (k) => flags.get(k) : undefined;
    const r = evaluate(c.flag, c.context, lookup);
    assert.deepEqual({ on: r.on, reason: r.reason }, c.expected, r.error);
  });
}
