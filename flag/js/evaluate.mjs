// A JavaScript evaluator of rollout feature flags, the same model as the Go
// package github.com/rolloutdev/terraform-provider-rollout/flag: apps in
// Node.js bucket users exactly as the Go evaluator does. The golden vectors
// in ../testdata/golden.json prove it (evaluate.test.mjs, run by make test).
import { createHash } from "node:crypto";

export const SCHEMA_VERSION = 1;
const OPERATORS = ["equals", "contains", "starts_with", "in", "gt", "lt"];

// bucket: the first 8 hex digits of md5("<key>:<user_id>") as an unsigned
// integer, mod 100.
export function bucket(key, userId) {
  const hex = createHash("md5").update(`${key}:${userId}`, "utf8").digest("hex");
  return parseInt(hex.slice(0, 8), 16) % 100;
}

function problems(f) {
  const out = [];
  if (typeof f.key !== "string" || !/^[a-z][a-z0-9._-]{0,127}$/.test(f.key)) out.push("key");
  const p = f.rollout_percentage ?? 0;
  if (!Number.isInteger(p) || p < 0 || p > 100) out.push("rollout_percentage");
  for (const r of f.targeting?.segment_rules ?? []) {
    if (!r.attribute) out.push("segment_rules.attribute");
    if (!OPERATORS.includes(r.operator)) out.push("segment_rules.operator");
  }
  if (f.expires_at && Number.isNaN(Date.parse(f.expires_at))) out.push("expires_at");
  if ((f.dependencies ?? []).includes(f.key)) out.push("dependencies");
  return out;
}

// parse checks a flag document (an object or JSON text) as the Go Parse does.
export function parse(doc) {
  const f = typeof doc === "string" ? JSON.parse(doc) : doc;
  if (f.schema_version !== SCHEMA_VERSION) throw new Error(`schema_version ${f.schema_version}, want ${SCHEMA_VERSION}`);
  const ps = problems(f);
  if (ps.length) throw new Error(`invalid flag: ${ps.join(", ")}`);
  return f;
}

function matches(rule, attrs) {
  if (!attrs || !Object.hasOwn(attrs, rule.attribute)) return false;
  const v = String(attrs[rule.attribute]);
  switch (rule.operator) {
    case "equals": return v === rule.value;
    case "contains": return v.includes(rule.value);
    case "starts_with": return v.startsWith(rule.value);
    case "in": return rule.value.split(",").some((item) => item.trim() === v);
    case "gt":
    case "lt": {
      // The one number grammar (flag.Number in Go): spaces or tabs, a sign,
      // decimal digits, a fraction and an exponent; nothing else.
      const num = (s) => (/^[ \t]*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?[ \t]*$/.test(s) ? Number(s) : NaN);
      const a = num(v), b = num(rule.value);
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return rule.operator === "gt" ? a > b : a < b;
    }
  }
  return false;
}

function own(f, ctx) {
  const t = f.targeting ?? {};
  const user = ctx.user_id ?? "";
  if (f.kill_switch) return { on: false, reason: "KILL_SWITCH" };
  if (!f.enabled) return { on: false, reason: "DISABLED" };
  if ((f.environments ?? []).length && !f.environments.includes(ctx.environment ?? "")) return { on: false, reason: "ENVIRONMENT" };
  if (user && (t.included_users ?? []).includes(user)) return { on: true, reason: "INCLUDED" };
  if (user && (t.excluded_users ?? []).includes(user)) return { on: false, reason: "EXCLUDED" };
  if ((t.segment_rules ?? []).length) {
    return t.segment_rules.every((r) => matches(r, ctx.attributes)) ? { on: true, reason: "SEGMENT_MATCH" } : { on: false, reason: "SEGMENT_MISS" };
  }
  const pct = f.rollout_percentage ?? 0;
  if (pct >= 100) return { on: true, reason: "FULL_ROLLOUT" };
  if (!user) return { on: false, reason: "NO_USER" };
  return bucket(f.key, user) < pct ? { on: true, reason: "PERCENTAGE_IN" } : { on: false, reason: "PERCENTAGE_OUT" };
}

function evaluateFlag(f, ctx, lookup, seen) {
  const r = own(f, ctx);
  if (!r.on || !(f.dependencies ?? []).length) return r;
  const path = [...seen, f.key];
  for (const d of f.dependencies) {
    if (path.includes(d)) return { on: false, reason: "ERROR", error: `dependency cycle: ${path.join(" → ")} → ${d}` };
    const df = lookup ? lookup(d) : undefined;
    if (!df) return { on: false, reason: "ERROR", error: `dependency ${d} not found` };
    const dr = evaluateFlag(df, ctx, lookup, path);
    if (dr.reason === "ERROR") return dr;
    if (!dr.on) return { on: false, reason: "DEPENDENCY_OFF" };
  }
  return r;
}

// evaluate decides whether the flag document is on for ctx ({ user_id,
// environment, attributes }); lookup(key) returns another flag document
// for dependencies. Any error is off (reason ERROR): fail safe.
export function evaluate(doc, ctx, lookup) {
  try {
    return evaluateFlag(parse(doc), ctx ?? {}, lookup, []);
  } catch (e) {
    return { on: false, reason: "ERROR", error: String(e.message ?? e) };
  }
}
