package provider_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
)

const (
	fakeListener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2"
	fakeRule     = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
	fakeNLB      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/web/50dc6c495c0c9188/f2f7dc8efc522ab2"
	fakeLambda   = "arn:aws:lambda:us-east-1:123456789012:function:check"
)

func fakeTG(n int) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg%d/73e2d6bc24d8a06%d", n, n)
}

func tgList(ws ...int) string {
	var parts []string
	for i, w := range ws {
		parts = append(parts, fmt.Sprintf("{ arn = %q, weight = %d }", fakeTG(i), w))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Every wrong input is refused while planning, on the attribute at fault,
// with what is allowed. Nothing reaches AWS: the emulator must see no request.
func TestAccBadInput(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	good := e.ProviderConfig()
	res := func(body string) string {
		return "resource \"rollout_traffic_split\" \"test\" {\n" + body + "\n}\n"
	}
	withTGs := func(tgs string) string {
		return good + res(fmt.Sprintf("listener_arn = %q\ntarget_groups = %s", fakeListener, tgs))
	}
	withExtra := func(extra string) string {
		return good + res(fmt.Sprintf("listener_arn = %q\ntarget_groups = %s\n%s", fakeListener, tgList(1, 1), extra))
	}
	withProvider := func(attrs string) string {
		return "provider \"rollout\" {\n" + attrs + "\n}\n" + res(fmt.Sprintf("listener_arn = %q\ntarget_groups = %s", fakeListener, tgList(1)))
	}
	cases := []struct {
		name, config, want string
	}{
		{"weight above 999", withTGs(tgList(1000, 1)), `Invalid Target Group Weight(.|\n)*target_groups\[0\]\.weight: weight 1000 is outside 0 to 999`},
		{"negative weight", withTGs(tgList(5, -1)), `Invalid Target Group Weight(.|\n)*target_groups\[1\]\.weight: weight -1`},
		{"all weights zero", withTGs(tgList(0, 0)), `No Traffic Would Be Served(.|\n)*every weight is 0`},
		{"six target groups", withTGs(tgList(1, 1, 1, 1, 1, 1)), `Too Many Target Groups(.|\n)*1 to 5 target groups, this one has 6`},
		{"no target groups", withTGs("[]"), `No Target Groups`},
		{"duplicate target group", withTGs(fmt.Sprintf("[{ arn = %q, weight = 1 }, { arn = %q, weight = 2 }]", fakeTG(0), fakeTG(0))), `Duplicate Target Group(.|\n)*target_groups\[1\]\.arn`},
		{"listener and rule", good + res(fmt.Sprintf("listener_arn = %q\nrule_arn = %q\ntarget_groups = %s", fakeListener, fakeRule, tgList(1))), `Invalid Attribute Combination`},
		{"neither listener nor rule", good + res("target_groups = "+tgList(1)), `Invalid Attribute Combination`},
		{"listener_arn is a target group", good + res(fmt.Sprintf("listener_arn = %q\ntarget_groups = %s", fakeTG(9), tgList(1))), `Invalid ARN(.|\n)*listener_arn(.|\n)*"listener/app/"`},
		{"listener_arn of a network load balancer", good + res(fmt.Sprintf("listener_arn = %q\ntarget_groups = %s", fakeNLB, tgList(1))), `Invalid ARN(.|\n)*"listener/net/web`},
		{"rule_arn is a listener", good + res(fmt.Sprintf("rule_arn = %q\ntarget_groups = %s", fakeListener, tgList(1))), `Invalid ARN(.|\n)*rule_arn(.|\n)*"listener-rule/app/"`},
		{"target group arn of lambda", withTGs(fmt.Sprintf("[{ arn = %q, weight = 1 }]", fakeLambda)), `Invalid ARN(.|\n)*target_groups\[0\]\.arn(.|\n)*service "lambda"`},
		{"arn in an unknown partition", good + res(fmt.Sprintf("listener_arn = %q\ntarget_groups = %s", strings.Replace(fakeListener, "arn:aws:", "arn:azure:", 1), tgList(1))), `Invalid ARN(.|\n)*partition "azure"`},
		{"not an arn", good + res(fmt.Sprintf("listener_arn = %q\ntarget_groups = %s", "web-listener", tgList(1))), `Invalid ARN(.|\n)*is not an ARN`},
		{"stickiness duration zero", withExtra("stickiness = { enabled = true, duration_seconds = 0 }"), `stickiness\.duration_seconds value must be between 1 and 604800`},
		{"stickiness duration above a week", withExtra("stickiness = { enabled = true, duration_seconds = 604801 }"), `between 1 and 604800, got: 604801`},
		{"stickiness without duration", withExtra("stickiness = { enabled = true }"), `Missing Stickiness Duration`},
		{"on_destroy unknown word", withExtra(`on_destroy = "delete"`), `on_destroy value must be one of`},
		{"endpoint without scheme", withProvider(`endpoints = { elbv2 = "localhost:4566" }`), `Invalid Endpoint URL(.|\n)*endpoints\.elbv2`},
		{"endpoint with a query", withProvider(`endpoints = { cloudwatch = "https://monitoring.example/?a=b" }`), `Invalid Endpoint URL(.|\n)*endpoints\.cloudwatch`},
		{"region misspelt", withProvider(`region = "useast1"`), `Invalid AWS Region(.|\n)*"useast1"`},
		{"max_retries too high", withProvider(`max_retries = 101`), `max_retries value must be between 0 and 100`},
		{"assume_role with a user arn", withProvider(`assume_role = { role_arn = "arn:aws:iam::123456789012:user/deploy" }`), `Invalid ARN(.|\n)*assume_role\.role_arn`},
		{"assume_role duration too short", withProvider(`assume_role = { role_arn = "arn:aws:iam::123456789012:role/deploy", duration = "5m" }`), `Duration Out Of Range(.|\n)*from 15m0s to 12h0m0s`},
		{"assume_role duration not a duration", withProvider(`assume_role = { role_arn = "arn:aws:iam::123456789012:role/deploy", duration = "an hour" }`), `Invalid Duration(.|\n)*"an hour"`},
		{"assume_role session name with a space", withProvider(`assume_role = { role_arn = "arn:aws:iam::123456789012:role/deploy", session_name = "my session" }`), `session_name(.|\n)*must be 2 to 64 of the characters`},
		{"endpoint known only after apply", "resource \"terraform_data\" \"ep\" {\n  input = \"http://127.0.0.1:1\"\n}\n" +
			withProvider(`endpoints = { elbv2 = terraform_data.ep.output }`), `Provider Configuration Not Known(.|\n)*endpoints\.elbv2 depends on a value`},
		// The rollout block.
		{"canary without steps", withExtra(`rollout = { strategy = "canary" }`), `Missing Canary Steps(.|\n)*rollout.steps is not set`},
		{"canary steps going back", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 50 }, { percent = 20 }, { percent = 100 }] }`), `Invalid Rollout Schedule(.|\n)*rollout\.steps\[1\]\.percent is wrong: 20 does not increase`},
		{"canary not ending at 100", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 10 }, { percent = 50 }] }`), `Invalid Rollout Schedule(.|\n)*the last step is 50; it must be 100`},
		{"canary step of 0 percent", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 0 }, { percent = 100 }] }`), `rollout\.steps\[0\]\.percent value must be between 1 and 100, got: 0`},
		{"twenty-one canary steps", withExtra(`rollout = { strategy = "canary", steps = [for p in range(80, 101) : { percent = p }] }`), `rollout\.steps list must contain at least 1 elements and at most 20 elements, got: 21`},
		{"pause not a duration", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 10, pause = "5 minutes" }, { percent = 100 }] }`), `Invalid Duration(.|\n)*rollout\.steps\[0\]\.pause is "5 minutes"`},
		{"pause over a day", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 10, pause = "48h" }, { percent = 100 }] }`), `Duration Out Of Range(.|\n)*rollout\.steps\[0\]\.pause is 48h0m0s(.|\n)*from 0s to 24h0m0s`},
		{"linear without settings", withExtra(`rollout = { strategy = "linear" }`), `Missing Linear Settings`},
		{"steps on a linear rollout", withExtra(`rollout = { strategy = "linear", linear = { step_percent = 20, interval = "1m" }, steps = [{ percent = 100 }] }`), `Steps Without Canary(.|\n)*strategy is "linear"`},
		{"linear settings on a canary", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 100 }], linear = { step_percent = 20, interval = "1m" } }`), `Linear Settings Without Linear`},
		{"linear step of 101 percent", withExtra(`rollout = { strategy = "linear", linear = { step_percent = 101, interval = "1m" } }`), `rollout\.linear\.step_percent value must be between 1 and 100, got: 101`},
		{"unknown strategy", withExtra(`rollout = { strategy = "blue_green" }`), `rollout\.strategy value must be one of`},
		{"unknown rollback", withExtra(`rollout = { rollback = "slowly" }`), `rollout\.rollback value must be one of(.|\n)*"auto"`},
		{"poll interval too short", withExtra(`rollout = { poll_interval = "100ms" }`), `Duration Out Of Range(.|\n)*rollout\.poll_interval is 100ms(.|\n)*from 1s to 1h0m0s`},
		{"healthy percent above 100", withExtra(`rollout = { gates = { health = { min_healthy_percent = 150 } } }`), `rollout\.gates\.health\.min_healthy_percent value must be between 0\.000000 and 100\.000000`},
		{"negative healthy targets", withExtra(`rollout = { gates = { health = { min_healthy_targets = -1 } } }`), `min_healthy_targets value must be between 0 and 1000, got: -1`},
		{"health timeout not a duration", withExtra(`rollout = { gates = { health = { timeout = "soon" } } }`), `Invalid Duration(.|\n)*rollout\.gates\.health\.timeout is "soon"`},
		{"no alarm names", withExtra(`rollout = { gates = { alarms = [] } }`), `rollout\.gates\.alarms list must contain at least 1 elements`},
		{"alarm named twice", withExtra(`rollout = { gates = { alarms = ["a", "a"] } }`), `Duplicate List Value(.|\n)*duplicate values of: "a"`},
		{"empty alarm name", withExtra(`rollout = { gates = { alarms = [""] } }`), `rollout\.gates\.alarms\[0\] string length must be between 1 and 255`},
		{"metrics with no threshold", withExtra(`rollout = { gates = { metrics = {} } }`), `Empty Metrics Gate(.|\n)*names no threshold`},
		{"negative error rate", withExtra(`rollout = { gates = { metrics = { max_error_rate_percent = -1 } } }`), `max_error_rate_percent value must be between 0\.000000 and 100\.000000`},
		{"zero latency", withExtra(`rollout = { gates = { metrics = { max_p99_latency_ms = 0 } } }`), `max_p99_latency_ms value must be between`},
		{"zero request count", withExtra(`rollout = { gates = { metrics = { min_request_count = 0 } } }`), `min_request_count value must be at least 1, got: 0`},
		{"hooks with no function", withExtra(`rollout = { gates = { hooks = {} } }`), `Empty Hooks Gate(.|\n)*names no function`},
		{"hook that is not a Lambda function", withExtra(fmt.Sprintf(`rollout = { gates = { hooks = { before_shift = %q } } }`, fakeTG(0))), `Invalid ARN(.|\n)*rollout\.gates\.hooks\.before_shift`},
		{"timeout not a duration", withExtra(`timeouts = { update = "soon" }`), `Invalid Attribute Value Time Duration`},
		{"data source with both", good + fmt.Sprintf("data \"rollout_listener_weights\" \"x\" {\n listener_arn = %q\n rule_arn = %q\n}\n", fakeListener, fakeRule), `Invalid Attribute Combination`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: e.Factories(),
				Steps: []resource.TestStep{{
					Config:   c.config,
					PlanOnly: true,
					// Engines wrap long lines: any run of white space matches a space.
					ExpectError: regexp.MustCompile(strings.ReplaceAll(c.want, " ", `\s+`)),
				}},
			})
		})
	}
	t.Cleanup(func() {
		if n := e.Emu.Total("elasticloadbalancing:"); n != 0 {
			t.Errorf("bad input reached AWS: the emulator saw %v", e.Emu.Counts())
		}
	})
}
