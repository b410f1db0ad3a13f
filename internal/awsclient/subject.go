package awsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// SwitchOff switches flags off for a feature_flag rollback, with the
// reason why() gives at that moment: a Runner's SwitchOff.
func (c *Client) SwitchOff(flags []string, why func() string) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) { return c.SwitchFlagsOff(ctx, flags, why()) }
}

// DefaultFlagPrefix is where flags named by key live in Parameter Store.
const DefaultFlagPrefix = "/rollout/flags/"

// MaxKillSwitchReason is the longest kill_switch_reason a flag holds.
const MaxKillSwitchReason = 256

// FlagName is the parameter of a flag named in rollout.flags: a key under
// DefaultFlagPrefix, or a parameter name.
func FlagName(k string) string {
	if strings.HasPrefix(k, "/") {
		return k
	}
	return FlagParameter(DefaultFlagPrefix, k)
}

// SwitchFlagsOff turns the kill switch of each flag on, for the
// feature_flag rollback; keys are under DefaultFlagPrefix unless given as
// parameter names. Each write must follow the version it read: another
// writer in between means reading again (a kill switch someone else turned
// on counts). A flag whose tier is not known is written as
// Intelligent-Tiering, which keeps an Advanced parameter Advanced. It
// returns the keys switched off (or found off).
func (c *Client) SwitchFlagsOff(ctx context.Context, flags []string, reason string) (string, error) {
	reason = rollout.Bound(reason)
	if len(reason) > MaxKillSwitchReason {
		reason = reason[:MaxKillSwitchReason]
	}
	var done []string
	for _, k := range flags {
		name, key := FlagName(k), k
		for try := 1; ; try++ {
			p, err := c.ReadFlagParameter(ctx, name)
			if err != nil {
				return strings.Join(done, ", "), fmt.Errorf("reading the flag %s: %w", name, err)
			}
			key = p.Flag.Key
			if p.Flag.KillSwitch {
				break
			}
			f := *p.Flag
			f.KillSwitch, f.KillSwitchReason = true, reason
			doc, err := json.Marshal(&f)
			if err != nil {
				return strings.Join(done, ", "), err
			}
			_, err = c.PutFlagOver(ctx, name, string(doc), f.Description, "Intelligent-Tiering", p.Version)
			if errors.Is(err, rollout.ErrConflict) && try < 3 {
				continue // another writer: read again
			}
			if err != nil {
				return strings.Join(done, ", "), fmt.Errorf("switching the flag %s off: %w", name, err)
			}
			break
		}
		done = append(done, key)
	}
	return strings.Join(done, ", "), nil
}
