package rollout

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// A detached run carries its schedule in every Step Functions payload, so
// the lists of splits in a Progress name each target group once:
//
//	{"arns": ["tg-a", "tg-b"], "rows": [[percent, pause_ns, w_a, w_b], ...]}
//
// (a hold step's pause is -1)
//
// when every split names the same target groups in the same order (a
// schedule always does), and the plain form otherwise.

// Schedule is a list of planned steps.
type Schedule []PlannedStep

// Splits is a list of splits.
type Splits []weights.Split

type compact struct {
	ARNs []string  `json:"arns"`
	Rows [][]int64 `json:"rows"`
}

// sameARNs returns the target groups every split names, in order, or false.
func sameARNs(n int, at func(int) weights.Split) ([]string, bool) {
	if n == 0 {
		return nil, false
	}
	var arns []string
	for _, t := range at(0) {
		arns = append(arns, t.ARN)
	}
	for i := 1; i < n; i++ {
		s := at(i)
		if len(s) != len(arns) {
			return nil, false
		}
		for j, t := range s {
			if t.ARN != arns[j] {
				return nil, false
			}
		}
	}
	return arns, true
}

func (s Schedule) MarshalJSON() ([]byte, error) {
	arns, ok := sameARNs(len(s), func(i int) weights.Split { return s[i].Weights })
	if !ok {
		return json.Marshal([]PlannedStep(s))
	}
	c := compact{ARNs: arns}
	for _, st := range s {
		pause := int64(st.Pause)
		if st.Hold {
			pause = -1
		}
		row := []int64{int64(st.Percent), pause}
		for _, t := range st.Weights {
			row = append(row, int64(t.Weight))
		}
		c.Rows = append(c.Rows, row)
	}
	return json.Marshal(c)
}

func (s *Schedule) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, (*[]PlannedStep)(s))
	}
	var c compact
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	out := make(Schedule, 0, len(c.Rows))
	for i, row := range c.Rows {
		if len(row) != 2+len(c.ARNs) {
			return fmt.Errorf("schedule row %d has %d values for %d target groups", i, len(row), len(c.ARNs))
		}
		st := PlannedStep{Percent: int(row[0]), Pause: time.Duration(row[1]), Weights: fromRow(c.ARNs, row[2:])}
		if row[1] < 0 {
			st.Pause, st.Hold = 0, true
		}
		out = append(out, st)
	}
	*s = out
	return nil
}

func (s Splits) MarshalJSON() ([]byte, error) {
	arns, ok := sameARNs(len(s), func(i int) weights.Split { return s[i] })
	if !ok {
		return json.Marshal([]weights.Split(s))
	}
	c := compact{ARNs: arns}
	for _, sp := range s {
		row := make([]int64, 0, len(sp))
		for _, t := range sp {
			row = append(row, int64(t.Weight))
		}
		c.Rows = append(c.Rows, row)
	}
	return json.Marshal(c)
}

func (s *Splits) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, (*[]weights.Split)(s))
	}
	var c compact
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	out := make(Splits, 0, len(c.Rows))
	for i, row := range c.Rows {
		if len(row) != len(c.ARNs) {
			return fmt.Errorf("split %d has %d weights for %d target groups", i, len(row), len(c.ARNs))
		}
		out = append(out, fromRow(c.ARNs, row))
	}
	*s = out
	return nil
}

func fromRow(arns []string, ws []int64) weights.Split {
	out := make(weights.Split, len(arns))
	for i, a := range arns {
		out[i] = weights.Target{ARN: a, Weight: int(ws[i])}
	}
	return out
}
