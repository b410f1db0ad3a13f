// Package noticeschema holds the JSON Schema of a rollout notice
// (rollout.Notice, version rollout.NoticeVersion), which the docs publish,
// and checks notices against it. Tests use Check; the product does not.
package noticeschema

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema is the notice's JSON Schema.
//
//go:embed notice.schema.json
var Schema []byte

var (
	once     sync.Once
	compiled *jsonschema.Schema
	bad      error
)

func schema() (*jsonschema.Schema, error) {
	once.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
		if err != nil {
			bad = fmt.Errorf("the notice schema is not JSON: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource("notice.schema.json", doc); err != nil {
			bad = err
			return
		}
		compiled, bad = c.Compile("notice.schema.json")
	})
	return compiled, bad
}

// Check says why a notice's JSON does not follow the schema, or nil.
func Check(raw []byte) error {
	s, err := schema()
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("a notice that is not JSON: %w", err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("a notice that does not follow the schema: %v\n%s", err, raw)
	}
	return nil
}

// CheckValue marshals a notice as the notifier does and checks it.
func CheckValue(n any) error {
	raw, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return Check(raw)
}
