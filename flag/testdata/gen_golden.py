#!/usr/bin/env python3
"""Writes golden.json: flag evaluation cases whose md5 buckets are computed
here, with Python's hashlib, independently of the Go and JavaScript
evaluators that the tests check against them. Run it by hand when adding a
case: python3 flag/testdata/gen_golden.py > flag/testdata/golden.json"""
import hashlib, json

def bucket(key, user):
    return int(hashlib.md5(f"{key}:{user}".encode()).hexdigest()[:8], 16) % 100

def user_with_bucket(key, want):
    for i in range(100000):
        u = f"user-{i}"
        if bucket(key, u) == want:
            return u
    raise SystemExit(f"no user with bucket {want}")

def flag(key="checkout", **kw):
    f = {"schema_version": 1, "key": key, "enabled": True, "rollout_percentage": 0,
         "targeting": {}, "kill_switch": False}
    f.update(kw)
    return f

cases = []
def case(name, f, ctx, on, reason, flags=None):
    c = {"name": name, "flag": f, "context": ctx, "expected": {"on": on, "reason": reason}}
    if flags:
        c["flags"] = flags
    cases.append(c)

buckets = []
for key, user in [("checkout", "alice"), ("checkout", "bob"), ("new-search", "user-1"), ("a", ""), ("dark-mode", "42"), ("pricing.v2", "ünïcode")]:
    buckets.append({"key": key, "user_id": user, "bucket": bucket(key, user),
                    "md5_first_8_hex": hashlib.md5(f"{key}:{user}".encode()).hexdigest()[:8]})

u = {"user_id": "alice", "environment": "prod", "attributes": {"plan": "pro", "country": "FR", "age": "42"}}
case("kill switch wins over everything", flag(kill_switch=True, rollout_percentage=100, targeting={"included_users": ["alice"]}), u, False, "KILL_SWITCH")
case("disabled is off for everyone, even at 50 %", flag(enabled=False, rollout_percentage=50), {**u, "user_id": user_with_bucket("checkout", 0)}, False, "DISABLED")
case("disabled beats an included user", flag(enabled=False, targeting={"included_users": ["alice"]}), u, False, "DISABLED")
case("environment not listed", flag(environments=["staging"], rollout_percentage=100), u, False, "ENVIRONMENT")
case("environment listed", flag(environments=["staging", "prod"], rollout_percentage=100), u, True, "FULL_ROLLOUT")
case("empty environments allow any", flag(rollout_percentage=100), {**u, "environment": ""}, True, "FULL_ROLLOUT")
case("included user", flag(targeting={"included_users": ["alice"]}), u, True, "INCLUDED")
case("included beats excluded", flag(targeting={"included_users": ["alice"], "excluded_users": ["alice"]}), u, True, "INCLUDED")
case("excluded user at 100 %", flag(rollout_percentage=100, targeting={"excluded_users": ["alice"]}), u, False, "EXCLUDED")
case("all segment rules match", flag(targeting={"segment_rules": [{"attribute": "plan", "operator": "equals", "value": "pro"}, {"attribute": "country", "operator": "in", "value": "FR, DE"}]}), u, True, "SEGMENT_MATCH")
case("one segment rule misses", flag(rollout_percentage=100, targeting={"segment_rules": [{"attribute": "plan", "operator": "equals", "value": "pro"}, {"attribute": "country", "operator": "in", "value": "US,CA"}]}), u, False, "SEGMENT_MISS")
case("contains", flag(targeting={"segment_rules": [{"attribute": "plan", "operator": "contains", "value": "r"}]}), u, True, "SEGMENT_MATCH")
case("starts_with", flag(targeting={"segment_rules": [{"attribute": "plan", "operator": "starts_with", "value": "pr"}]}), u, True, "SEGMENT_MATCH")
case("gt on numbers", flag(targeting={"segment_rules": [{"attribute": "age", "operator": "gt", "value": "41.5"}]}), u, True, "SEGMENT_MATCH")
case("lt on numbers", flag(targeting={"segment_rules": [{"attribute": "age", "operator": "lt", "value": "42"}]}), u, False, "SEGMENT_MISS")
case("gt on a non-number does not match", flag(targeting={"segment_rules": [{"attribute": "plan", "operator": "gt", "value": "1"}]}), u, False, "SEGMENT_MISS")
case("missing attribute does not match", flag(targeting={"segment_rules": [{"attribute": "tier", "operator": "equals", "value": "gold"}]}), u, False, "SEGMENT_MISS")
case("segment rules decide, not the percentage", flag(rollout_percentage=100, targeting={"segment_rules": [{"attribute": "plan", "operator": "equals", "value": "free"}]}), u, False, "SEGMENT_MISS")
case("100 % is on for everyone", flag(rollout_percentage=100), u, True, "FULL_ROLLOUT")
case("100 % is on without a user id", flag(rollout_percentage=100), {**u, "user_id": ""}, True, "FULL_ROLLOUT")
case("no user id below 100 %", flag(rollout_percentage=99), {**u, "user_id": ""}, False, "NO_USER")
case("0 % is off", flag(rollout_percentage=0), {**u, "user_id": user_with_bucket("checkout", 0)}, False, "PERCENTAGE_OUT")
for pct in (1, 10, 50, 99):
    case(f"bucket {pct-1} at {pct} % is in", flag(rollout_percentage=pct), {**u, "user_id": user_with_bucket("checkout", pct - 1)}, True, "PERCENTAGE_IN")
    case(f"bucket {pct} at {pct} % is out", flag(rollout_percentage=pct), {**u, "user_id": user_with_bucket("checkout", pct)}, False, "PERCENTAGE_OUT")
case("bucket 99 at 99 % is out", flag(rollout_percentage=99), {**u, "user_id": user_with_bucket("checkout", 99)}, False, "PERCENTAGE_OUT")
case("the key is part of the bucket", flag(key="other-flag", rollout_percentage=50), {**u, "user_id": user_with_bucket("other-flag", 49)}, True, "PERCENTAGE_IN")
# One number grammar for gt and lt in every evaluator: optional spaces or
# tabs, an optional sign, decimal digits with an optional fraction and
# exponent. Nothing else is a number (no Infinity, inf, NaN, hex, or digit
# separators); a value too large for a double is infinite, one too small is
# zero, as JavaScript's Number reads them.
for i, (attr, op, value, on) in enumerate([
        ("Infinity", "gt", "1", False), ("inf", "gt", "1", False), ("-inf", "lt", "1", False),
        ("NaN", "gt", "1", False), ("0x1p10", "gt", "1", False), ("1_000", "gt", "1", False),
        ("", "lt", "1", False), ("1e999", "gt", "1", True), ("-1e999", "lt", "-1", True),
        ("1e-400", "lt", "1e-300", True), (" 42\t", "gt", "41", True), ("+5", "gt", "4", True),
        (".5", "lt", "1", True), ("5.", "gt", "4.5", True), ("-0", "lt", "0", False),
        ("42", "gt", "Infinity", False), ("42", "lt", "1e999", True), ("\u00a042", "gt", "1", False),
        ("4 2", "gt", "1", False), ("1e5", "gt", "99999.5", True)]):
    name = f"number grammar {i + 1}: {json.dumps(attr)} {op} {json.dumps(value)}"
    case(name, flag(targeting={"segment_rules": [{"attribute": "n", "operator": op, "value": value}]}),
         {**u, "attributes": {"n": attr}}, on, "SEGMENT_MATCH" if on else "SEGMENT_MISS")
dep_on = flag(key="payments-v2", rollout_percentage=100)
dep_off = flag(key="payments-v2", enabled=False)
case("a dependency that is on", flag(rollout_percentage=100, dependencies=["payments-v2"]), u, True, "FULL_ROLLOUT", flags=[dep_on])
case("a dependency that is off", flag(rollout_percentage=100, dependencies=["payments-v2"]), u, False, "DEPENDENCY_OFF", flags=[dep_off])
case("a missing dependency fails safe", flag(rollout_percentage=100, dependencies=["payments-v2"]), u, False, "ERROR", flags=[])
case("a dependency cycle fails safe", flag(rollout_percentage=100, dependencies=["payments-v2"]), u, False, "ERROR",
     flags=[flag(key="payments-v2", rollout_percentage=100, dependencies=["checkout"])])
case("an off flag does not look at its dependencies", flag(enabled=False, dependencies=["payments-v2"]), u, False, "DISABLED", flags=[])
case("another schema version fails safe", {**flag(rollout_percentage=100), "schema_version": 2}, u, False, "ERROR")
case("a percentage above 100 fails safe", flag(rollout_percentage=101), u, False, "ERROR")

print(json.dumps({"schema_version": 1, "buckets": buckets, "cases": cases}, indent=1, ensure_ascii=False))
