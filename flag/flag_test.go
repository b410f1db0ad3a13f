package flag

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"testing"
)

type golden struct {
	Buckets []struct {
		Key    string `json:"key"`
		UserID string `json:"user_id"`
		Bucket int    `json:"bucket"`
	} `json:"buckets"`
	Cases []struct {
		Name    string            `json:"name"`
		Flag    json.RawMessage   `json:"flag"`
		Flags   []json.RawMessage `json:"flags"`
		Context struct {
			UserID      string            `json:"user_id"`
			Environment string            `json:"environment"`
			Attributes  map[string]string `json:"attributes"`
		} `json:"context"`
		Expected struct {
			On     bool   `json:"on"`
			Reason Reason `json:"reason"`
		} `json:"expected"`
	} `json:"cases"`
}

func loadGolden(t testing.TB) golden {
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// The evaluator agrees with every golden vector; the buckets in the file
// were computed with Python's hashlib, not with this code.
func TestGoldenVectors(t *testing.T) {
	g := loadGolden(t)
	for _, b := range g.Buckets {
		if got := Bucket(b.Key, b.UserID); got != b.Bucket {
			t.Errorf("Bucket(%q, %q) = %d, want %d", b.Key, b.UserID, got, b.Bucket)
		}
	}
	if len(g.Cases) < 30 {
		t.Fatalf("only %d cases", len(g.Cases))
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			flags := map[string]*Flag{}
			for _, raw := range c.Flags {
				f, err := Parse(raw)
				if err != nil {
					t.Fatalf("dependency: %v", err)
				}
				flags[f.Key] = f
			}
			var lookup Lookup
			if c.Flags != nil {
				lookup = func(k string) (*Flag, bool) { f, ok := flags[k]; return f, ok }
			}
			ctx := Context{UserID: c.Context.UserID, Environment: c.Context.Environment, Attributes: c.Context.Attributes}
			r := EvaluateDocument(c.Flag, ctx, lookup)
			if r.On != c.Expected.On || r.Reason != c.Expected.Reason {
				t.Fatalf("got %v %s (%v), want %v %s", r.On, r.Reason, r.Err, c.Expected.On, c.Expected.Reason)
			}
		})
	}
}

func TestBucketIsUniformEnough(t *testing.T) {
	var n [100]int
	for i := 0; i < 100000; i++ {
		n[Bucket("uniform", "u"+string(rune('a'+i%26))+string(rune(i)))]++
	}
	for b, c := range n {
		if c < 700 || c > 1300 {
			t.Fatalf("bucket %d holds %d of 100000", b, c)
		}
	}
}

func TestProblems(t *testing.T) {
	f := &Flag{Key: "Bad Key", RolloutPercentage: 101, ExpiresAt: "tomorrow", Dependencies: []string{"Bad Key"},
		Targeting: Targeting{SegmentRules: []Rule{{Attribute: "", Operator: "regex"}}}}
	if ps := f.Problems(); len(ps) != 6 {
		t.Fatalf("problems %v, want 6", ps)
	}
}

func FuzzEvaluateNeverPanics(f *testing.F) {
	f.Add([]byte(`{"schema_version":1,"key":"a","enabled":true,"rollout_percentage":50}`), "u", "prod")
	f.Fuzz(func(t *testing.T, doc []byte, user, env string) {
		r := EvaluateDocument(doc, Context{UserID: user, Environment: env}, nil)
		if r.Reason == Error && r.On {
			t.Fatal("an error evaluated on")
		}
		if b := Bucket(string(doc), user); b < 0 || b > 99 {
			t.Fatalf("bucket %d", b)
		}
	})
}

// BenchmarkEvaluateSegments is a flag with 3 segment rules (target: at
// least a million evaluations a second on one core).
func BenchmarkEvaluateSegments(b *testing.B) {
	f := &Flag{SchemaVersion: 1, Key: "checkout", Enabled: true, RolloutPercentage: 50, Targeting: Targeting{SegmentRules: []Rule{
		{Attribute: "plan", Operator: "equals", Value: "pro"}, {Attribute: "country", Operator: "in", Value: "FR,DE,ES"}, {Attribute: "age", Operator: "gt", Value: "18"},
	}}}
	c := Context{UserID: "alice", Environment: "prod", Attributes: map[string]string{"plan": "pro", "country": "DE", "age": "42"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !Evaluate(f, c, nil).On {
			b.Fatal("off")
		}
	}
}

// BenchmarkEvaluatePercentage is the percentage path (target: no
// allocation).
func BenchmarkEvaluatePercentage(b *testing.B) {
	f := &Flag{SchemaVersion: 1, Key: "checkout", Enabled: true, RolloutPercentage: 50}
	c := Context{UserID: "user-12345", Environment: "prod"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Evaluate(f, c, nil)
	}
}

func TestPercentagePathDoesNotAllocate(t *testing.T) {
	f := &Flag{SchemaVersion: 1, Key: "checkout", Enabled: true, RolloutPercentage: 50}
	c := Context{UserID: "user-12345", Environment: "prod"}
	if n := testing.AllocsPerRun(1000, func() { Evaluate(f, c, nil) }); n != 0 {
		t.Fatalf("%v allocations per evaluation on the percentage path, want 0", n)
	}
}

// A dependency shared by several flags (a diamond, stacked) is looked up
// and evaluated once per evaluation, not once per path to it.
func TestEvaluateLooksUpSharedDependenciesOnce(t *testing.T) {
	flags := map[string]*Flag{}
	const levels = 20
	for i := 0; i <= levels; i++ {
		f := &Flag{SchemaVersion: SchemaVersion, Key: fmt.Sprintf("f%d", i), Enabled: true, RolloutPercentage: 100}
		if i < levels {
			// f_i depends on a_i and b_i, which both depend on f_{i+1}.
			f.Dependencies = []string{fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)}
			for _, side := range []string{"a", "b"} {
				flags[fmt.Sprintf("%s%d", side, i)] = &Flag{SchemaVersion: SchemaVersion, Key: fmt.Sprintf("%s%d", side, i), Enabled: true, RolloutPercentage: 100, Dependencies: []string{fmt.Sprintf("f%d", i+1)}}
			}
		}
		flags[f.Key] = f
	}
	lookups := 0
	r := Evaluate(flags["f0"], Context{UserID: "u"}, func(k string) (*Flag, bool) {
		lookups++
		f, ok := flags[k]
		return f, ok
	})
	if !r.On || lookups != 3*levels {
		t.Fatalf("result %+v after %d lookups, want on after %d (each flag once)", r, lookups, 3*levels)
	}
}

// isDecimal is the number grammar the JavaScript evaluator writes as a
// regular expression.
func FuzzNumberGrammar(f *testing.F) {
	for _, s := range []string{"42", " 42\t", "+.5", "5.", "1e5", "1e", ".", "-", "0x1p10", "Infinity", "1_000", "4 2", ""} {
		f.Add(s)
	}
	re := regexp.MustCompile(numberGrammar)
	f.Fuzz(func(t *testing.T, s string) {
		_, ok := Number(s)
		if want := re.MatchString(s); ok != want {
			t.Fatalf("Number(%q) ok = %v, the grammar says %v", s, ok, want)
		}
	})
}
