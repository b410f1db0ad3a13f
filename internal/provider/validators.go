package provider

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
)

// arnOf checks that a string is an ARN of one kind of resource. It exists
// because AWS checks ARNs only when a request is made, after the plan has been
// approved; the provider refuses a wrong one while planning. It checks the
// partition, service and resource type, never the characters of the ids.
type arnOf struct{ kind arn.Kind }

var _ validator.String = arnOf{}

func (v arnOf) Description(context.Context) string {
	return fmt.Sprintf("must be the ARN of an %s (service %q, resource %q…)", v.kind.Name, v.kind.Service, v.kind.ResourcePrefix)
}

func (v arnOf) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v arnOf) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := v.kind.Check(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid ARN",
			pipeline.Detail(nil, fmt.Sprintf("%s: %s.", req.Path, err), fmt.Sprintf("Give the ARN of an %s, for example the arn attribute of the resource that manages it.", v.kind.Name)))
	}
}

// endpointURL checks a custom service endpoint: an absolute http or https URL
// with a host. The SDK would otherwise fail on the first request, after the
// plan was approved.
type endpointURL struct{}

var _ validator.String = endpointURL{}

func (endpointURL) Description(context.Context) string {
	return "must be an absolute http:// or https:// URL with a host, such as http://127.0.0.1:4566"
}

func (v endpointURL) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (endpointURL) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	u, err := url.Parse(s)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == "" && u.Fragment == "" {
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			var allow types.Bool
			_ = req.Config.GetAttribute(ctx, path.Root("endpoints").AtName("allow_http"), &allow)
			if !allow.ValueBool() {
				resp.Diagnostics.AddAttributeError(req.Path, "Plain HTTP Endpoint",
					pipeline.Detail(nil, fmt.Sprintf("%s is %q: plain http:// to a host that is not this machine, so signed requests, and STS credentials with assume_role, would cross the network unencrypted.", req.Path, s),
						"Use https://, or a loopback address (127.0.0.1, ::1, localhost) for a local emulator. If the network is private and trusted, set endpoints.allow_http = true."))
			}
		}
		return
	}
	resp.Diagnostics.AddAttributeError(req.Path, "Invalid Endpoint URL",
		pipeline.Detail(err, fmt.Sprintf("%s is %q, which is not an absolute http:// or https:// URL with a host and without a query or fragment.", req.Path, s),
			"Give the endpoint's base URL, for example \"https://elasticloadbalancing.eu-west-1.amazonaws.com\" or \"http://127.0.0.1:4566\" for a local emulator."))
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// secretString checks a secret's length and characters without echoing it
// in the diagnostic, as the framework's regex validator would.
type secretString struct {
	min, max int
	re       *regexp.Regexp
	chars    string
}

func (v secretString) Description(context.Context) string {
	return fmt.Sprintf("%d to %d of the characters %s", v.min, v.max, v.chars)
}

func (v secretString) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v secretString) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	if n := len(s); n >= v.min && n <= v.max && v.re.MatchString(s) {
		return
	}
	resp.Diagnostics.AddAttributeError(req.Path, "Invalid Secret Value", pipeline.Detail(nil,
		fmt.Sprintf("%s (%d characters, not shown) is not %d to %d of the characters %s.", req.Path, len(s), v.min, v.max, v.chars),
		"Correct the value; it is sensitive, so it is never printed."))
}

// regionName checks the shape of an AWS region name (us-east-1,
// us-gov-west-1, eu-isoe-west-1). A misspelt region otherwise surfaces as a
// DNS failure at apply time.
type regionName struct{}

var _ validator.String = regionName{}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)

func (regionName) Description(context.Context) string {
	return "must be an AWS region name such as us-east-1 or eu-central-2"
}

func (v regionName) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (regionName) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if s := req.ConfigValue.ValueString(); !regionRE.MatchString(s) {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid AWS Region",
			pipeline.Detail(nil, fmt.Sprintf("%s is %q, which is not the name of an AWS region.", req.Path, s),
				"A region name looks like us-east-1, eu-central-2 or us-gov-west-1; leave region unset to take it from AWS_REGION or the shared config profile."))
	}
}

// goDuration checks a Go duration string ("90s", "5m", "1h30m") and its range.
type goDuration struct{ min, max time.Duration }

var _ validator.String = goDuration{}

func (v goDuration) Description(context.Context) string {
	return fmt.Sprintf("must be a Go duration such as \"30s\", \"5m\" or \"1h30m\", from %s to %s", v.min, v.max)
}

func (v goDuration) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v goDuration) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	d, err := time.ParseDuration(s)
	if err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Duration",
			pipeline.Detail(nil, fmt.Sprintf("%s is %q, which is not a duration.", req.Path, s),
				fmt.Sprintf("Write a Go duration: a number with a unit of ms, s, m or h, such as \"30s\", \"5m\" or \"1h30m\", from %s to %s.", v.min, v.max)))
		return
	}
	if d < v.min || d > v.max {
		resp.Diagnostics.AddAttributeError(req.Path, "Duration Out Of Range",
			pipeline.Detail(nil, fmt.Sprintf("%s is %s.", req.Path, d), fmt.Sprintf("It must be from %s to %s.", v.min, v.max)))
	}
}

// orHold is a step's pause: a duration (inner), or "hold".
type orHold struct{ inner goDuration }

var _ validator.String = orHold{}

func (v orHold) Description(ctx context.Context) string {
	return v.inner.Description(ctx) + `, or "hold"`
}

func (v orHold) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v orHold) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.ValueString() == pipeline.PauseHold {
		return
	}
	v.inner.ValidateString(ctx, req, resp)
}

var (
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]*$`)
	externalIDRE  = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
)
