package awsclient

import (
	"testing"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

func TestAliasAsSplit(t *testing.T) {
	for _, c := range []struct {
		a    Alias
		want weights.Split
	}{
		{Alias{Version: "1"}, weights.Split{{ARN: "1", Weight: 1}}},
		{Alias{Version: "1", Additional: map[string]float64{"2": 0.1}}, weights.Split{{ARN: "1", Weight: 900}, {ARN: "2", Weight: 100}}},
		{Alias{Version: "1", Additional: map[string]float64{"2": 0.0005}}, weights.Split{{ARN: "1", Weight: 999}, {ARN: "2", Weight: 1}}},
		{Alias{Version: "1", Additional: map[string]float64{"2": 0}}, weights.Split{{ARN: "1", Weight: 1}}},
	} {
		if got := c.a.Split(); !got.Equal(c.want) {
			t.Errorf("%+v.Split() = %v, want %v", c.a, got, c.want)
		}
	}
}

func TestAliasOf(t *testing.T) {
	for _, c := range []struct {
		s          weights.Split
		primary    string
		version    string
		additional map[string]float64
	}{
		// The version the rollout started from stays primary until the end.
		{weights.Split{{ARN: "1", Weight: 100}, {ARN: "2", Weight: 900}}, "1", "1", map[string]float64{"2": 0.9}},
		{weights.Split{{ARN: "1", Weight: 0}, {ARN: "2", Weight: 1000}}, "1", "2", map[string]float64{}},
		{weights.Split{{ARN: "1", Weight: 925}, {ARN: "2", Weight: 75}}, "2", "2", map[string]float64{"1": 0.925}},
		// Neither is primary now: the larger share is.
		{weights.Split{{ARN: "3", Weight: 300}, {ARN: "4", Weight: 700}}, "1", "4", map[string]float64{"3": 0.3}},
	} {
		v, add, err := AliasOf(c.s, c.primary)
		if err != nil || v != c.version || len(add) != len(c.additional) {
			t.Errorf("AliasOf(%v, %s) = %s %v %v", c.s, c.primary, v, add, err)
			continue
		}
		for k, w := range c.additional {
			if add[k] != w {
				t.Errorf("AliasOf(%v) weight of %s = %v, want %v", c.s, k, add[k], w)
			}
		}
	}
	if _, _, err := AliasOf(weights.Split{{ARN: "1", Weight: 1}, {ARN: "2", Weight: 1}, {ARN: "3", Weight: 1}}, "1"); err == nil {
		t.Error("three versions accepted")
	}
}
