package provider_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
)

const (
	fakeListener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2"
	fakeRule     = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
	fakeNLB      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/web/50dc6c495c0c9188/f2f7dc8efc522ab2"
	fakeLambda   = "arn:aws:lambda:us-east-1:123456789012:function:check"
	fakeLB       = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
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
	alarm := func(body string, name ...string) string {
		n := "api"
		if len(name) > 0 {
			n = name[0]
		}
		return good + fmt.Sprintf("resource \"rollout_alarm\" \"test\" {\n  name = %q\n%s\n}\n", n, body)
	}
	ff := func(override string) string {
		key := strings.TrimSpace(strings.SplitN(override, "=", 2)[0])
		body := override
		if key != "key" {
			body = "key = \"checkout\"\n" + override
		}
		return good + "resource \"rollout_feature_flag\" \"test\" {\n" + body + "\n}\n"
	}
	alias := func(override string) string {
		attrs := map[string]string{"function_name": `"orders"`, "alias_name": `"live"`, "version": `"2"`}
		key := strings.TrimSpace(strings.SplitN(override, "=", 2)[0])
		var lines []string
		for _, k := range []string{"function_name", "alias_name", "version"} {
			if k != key {
				lines = append(lines, k+" = "+attrs[k])
			}
		}
		return good + "resource \"rollout_lambda_alias\" \"test\" {\n" + strings.Join(lines, "\n") + "\n" + override + "\n}\n"
	}
	bg := func(override string) string {
		attrs := map[string]string{"listener_arn": fmt.Sprintf("%q", fakeListener), "name_prefix": `"web"`, "port": "8080", "protocol": `"HTTP"`, "vpc_id": `"vpc-0123456789abcdef0"`, "active": `"blue"`}
		key := strings.TrimSpace(strings.SplitN(override, "=", 2)[0])
		var lines []string
		for _, k := range []string{"listener_arn", "name_prefix", "port", "protocol", "vpc_id", "active"} {
			if k != key {
				lines = append(lines, k+" = "+attrs[k])
			}
		}
		return good + "resource \"rollout_deployment_bluegreen\" \"test\" {\n" + strings.Join(lines, "\n") + "\n" + override + "\n}\n"
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
		{"listener_arn of a gateway load balancer", good + res(fmt.Sprintf("listener_arn = %q\ntarget_groups = %s", strings.Replace(fakeNLB, "/net/", "/gwy/", 1), tgList(1))), `Invalid ARN(.|\n)*Gateway Load Balancer's listener forwards to one target group`},
		{"blue/green on a network load balancer", bg(fmt.Sprintf("listener_arn = %q", fakeNLB)), `Blue/Green On A Network Load Balancer(.|\n)*listener_arn is a Network Load Balancer's listener`},
		{"rule_arn of a network load balancer", good + res(fmt.Sprintf("rule_arn = %q\ntarget_groups = %s", strings.Replace(fakeRule, "/app/", "/net/", 1), tgList(1))), `Invalid ARN(.|\n)*Network Load Balancer's listener has no rules: set listener_arn`},
		{"latency gate on a network load balancer", good + res(fmt.Sprintf("listener_arn = %q\ntarget_groups = %s\nrollout = { gates = { metrics = { max_p99_latency_ms = 200 } } }", fakeNLB, tgList(1, 1))), `No Latency On A Network Load Balancer(.|\n)*rollout\.gates\.metrics\.max_p99_latency_ms(.|\n)*NewFlowCount`},
		{"controlled by two systems", good + res(fmt.Sprintf("listener_arn = %q\nmanage = \"observe\"\ncontrolled_by = { ecs_service = %q, codedeploy_group = %q }", fakeListener, "arn:aws:ecs:us-east-1:123456789012:service/prod/web", "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:web/prod")), `Invalid Controlled By(.|\n)*exactly one system`},
		{"controlled by nothing", good + res(fmt.Sprintf("listener_arn = %q\nmanage = \"observe\"\ncontrolled_by = {}", fakeListener)), `Invalid Controlled By`},
		{"ecs service ARN without its cluster", good + res(fmt.Sprintf("listener_arn = %q\nmanage = \"observe\"\ncontrolled_by = { ecs_service = %q }", fakeListener, "arn:aws:ecs:us-east-1:123456789012:service/web")), `Invalid ARN(.|\n)*controlled_by\.ecs_service(.|\n)*incomplete`},
		{"codedeploy group that is an application", good + res(fmt.Sprintf("listener_arn = %q\nmanage = \"observe\"\ncontrolled_by = { codedeploy_group = %q }", fakeListener, "arn:aws:codedeploy:us-east-1:123456789012:application:web")), `Invalid ARN(.|\n)*controlled_by\.codedeploy_group(.|\n)*"deploymentgroup:"`},
		{"unknown manage", good + res(fmt.Sprintf("listener_arn = %q\nmanage = \"watch\"", fakeListener)), `manage value must be one of(.|\n)*"observe"`},
		{"weights while observing", good + res(fmt.Sprintf("listener_arn = %q\nmanage = \"observe\"\ntarget_groups = %s", fakeListener, tgList(1, 1))), `Set While Observing(.|\n)*target_groups is set, but manage is "observe"`},
		{"rollout while observing", good + res(fmt.Sprintf("listener_arn = %q\nmanage = \"observe\"\nrollout = { strategy = \"canary\" }", fakeListener)), `Set While Observing(.|\n)*rollout is set`},
		{"restore while observing", good + res(fmt.Sprintf("listener_arn = %q\nmanage = \"observe\"\non_destroy = \"restore\"", fakeListener)), `Set While Observing(.|\n)*on_destroy = "restore"`},
		{"no weights while writing", good + res(fmt.Sprintf("listener_arn = %q", fakeListener)), `Missing Target Groups(.|\n)*manage is "write"`},
		{"stickiness on a network load balancer", good + res(fmt.Sprintf("listener_arn = %q\ntarget_groups = %s\nstickiness = { enabled = true, duration_seconds = 60 }", fakeNLB, tgList(1, 1))), `Stickiness On A Network Load Balancer(.|\n)*stickiness\.enabled is true`},
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
		{"hold as the last step", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 10 }, { percent = 100, pause = "hold" }] }`), `Hold As Last Step(.|\n)*rollout\.steps\[1\] is the last step and holds`},
		{"pause neither a duration nor hold", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 10, pause = "wait" }, { percent = 100 }] }`), `Invalid Duration(.|\n)*rollout\.steps\[0\]\.pause is "wait"`},
		{"hold timeout shorter than the poll interval", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 10, pause = "hold" }, { percent = 100 }], poll_interval = "1m", hold_timeout = "30s" }`), `Hold Timeout Shorter Than Poll Interval(.|\n)*rollout\.hold_timeout is 30s, shorter than poll_interval \(1m0s\)`},
		{"hold timeout not a duration", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 10, pause = "hold" }, { percent = 100 }], hold_timeout = "abc" }`), `Invalid Duration(.|\n)*rollout\.hold_timeout is "abc"`},
		{"hold timeout in days", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 10, pause = "hold" }, { percent = 100 }], hold_timeout = "1d" }`), `Invalid Duration(.|\n)*rollout\.hold_timeout is "1d"`},
		{"hold timeout too long", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 10, pause = "hold" }, { percent = 100 }], hold_timeout = "9999999h" }`), `Invalid Duration(.|\n)*rollout\.hold_timeout is "9999999h"`},
		{"hold timeout zero", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 10, pause = "hold" }, { percent = 100 }], hold_timeout = "0s" }`), `Duration Out Of Range(.|\n)*rollout\.hold_timeout is 0s`},
		{"hold timeout negative", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 10, pause = "hold" }, { percent = 100 }], hold_timeout = "-5m" }`), `Duration Out Of Range(.|\n)*rollout\.hold_timeout is -5m0s`},
		{"hold timeout without a hold", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 10, pause = "1m" }, { percent = 100 }], hold_timeout = "1h" }`), `Hold Timeout Without Hold(.|\n)*no step holds`},
		{"hold timeout action without a timeout", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 10, pause = "hold" }, { percent = 100 }], hold_timeout_action = "promote" }`), `Hold Timeout Action Without Timeout`},
		{"hold timeout action unknown word", withExtra(`rollout = { strategy = "canary", steps = [{ percent = 10, pause = "hold" }, { percent = 100 }], hold_timeout = "1h", hold_timeout_action = "wait" }`), `rollout\.hold_timeout_action value must be one of(.|\n)*"rollback"`},
		{"promote token empty", withExtra(`rollout = { promote = "" }`), `rollout\.promote string length must be between 1 and 64`},
		{"notifications to an SQS queue", withExtra(`rollout = { notifications = { sns_topic_arn = "arn:aws:sqs:us-east-1:123456789012:events" } }`), `rollout\.notifications\.sns_topic_arn`},
		{"notifications to a bus with a bad name", withExtra(`rollout = { notifications = { event_bus_name = "ops bus!" } }`), `rollout\.notifications\.event_bus_name(.|\n)*must be an event bus name`},
		{"notifications going nowhere", withExtra(`rollout = { notifications = {} }`), `Empty Notifications(.|\n)*names neither sns_topic_arn nor event_bus_name`},
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
		// Issue "No surprise traffic moves": its new inputs.
		{"empty attempt", withExtra(`rollout = { attempt = "" }`), `rollout\.attempt string length must be between 1 and 64`},
		{"attempt over 64 characters", withExtra(`rollout = { attempt = "` + strings.Repeat("x", 65) + `" }`), `rollout\.attempt string length must be between 1 and 64, got: 65`},
		{"metrics delay over 15 minutes", withExtra(`rollout = { gates = { metrics = { min_request_count = 1, delay = "20m" } } }`), `Duration Out Of Range(.|\n)*rollout\.gates\.metrics\.delay is 20m0s(.|\n)*from 0s to 15m0s`},
		{"metrics delay not a duration", withExtra(`rollout = { gates = { metrics = { min_request_count = 1, delay = "a minute" } } }`), `Invalid Duration(.|\n)*rollout\.gates\.metrics\.delay is "a minute"`},
		{"ignore_poll_failures not a bool", withExtra(`rollout = { ignore_poll_failures = "sometimes" }`), `Incorrect attribute value type|Invalid value for|a bool is required`},
		{"adopt not a bool", withExtra(`adopt = "yes please"`), `Incorrect attribute value type|Invalid value for|a bool is required`},
		{"plain http endpoint to another host", withProvider(`endpoints = { elbv2 = "http://elb.internal.example:8080" }`), `Plain HTTP Endpoint(.|\n)*endpoints\.elbv2(.|\n)*endpoints\.allow_http = true`},
		{"plain http sts endpoint", withProvider(`endpoints = { sts = "http://sts.example.com" }`), `Plain HTTP Endpoint(.|\n)*endpoints\.sts`},
		{"external id with a space, never echoed", withProvider(`assume_role = { role_arn = "arn:aws:iam::123456789012:role/deploy", external_id = "top secret" }`), `Invalid Secret Value(.|\n)*assume_role\.external_id \(10 characters, not shown\)`},
		{"hooks with no function", withExtra(`rollout = { gates = { hooks = {} } }`), `Empty Hooks Gate(.|\n)*names no function`},
		{"hook that is not a Lambda function", withExtra(fmt.Sprintf(`rollout = { gates = { hooks = { before_shift = %q } } }`, fakeTG(0))), `Invalid ARN(.|\n)*rollout\.gates\.hooks\.before_shift`},
		{"timeout not a duration", withExtra(`timeouts = { update = "soon" }`), `Invalid Attribute Value Time Duration`},
		// rollout_alarm.
		{"alarm with an unknown preset", alarm(`preset = "latency"`), `rollout_alarm(.|\n)*preset value must be one of`},
		{"alarm preset without a load balancer", alarm(`preset = "error_rate"`), `Invalid Alarm(.|\n)*load_balancer_arn: the error_rate preset needs the load balancer`},
		{"unhealthy hosts without a target group", alarm(fmt.Sprintf(`preset = "unhealthy_hosts"
load_balancer_arn = %q`, fakeLB)), `Invalid Alarm(.|\n)*target_group_arn: the unhealthy_hosts preset is per target group`},
		{"4xx count with a target group", alarm(fmt.Sprintf(`preset = "elb_4xx_count"
load_balancer_arn = %q
target_group_arn = %q`, fakeLB, fakeTG(0))), `remove target_group_arn`},
		{"alarm load balancer ARN of a listener", alarm(fmt.Sprintf(`preset = "elb_4xx_count"
load_balancer_arn = %q`, fakeListener)), `Invalid ARN(.|\n)*load_balancer_arn`},
		{"alarm period of 45 s", alarm(fmt.Sprintf(`preset = "elb_4xx_count"
load_balancer_arn = %q
period = 45`, fakeLB)), `Invalid Alarm(.|\n)*period: 45 seconds is not 10, 30 or a multiple of 60`},
		{"alarm window over a day", alarm(fmt.Sprintf(`preset = "elb_4xx_count"
load_balancer_arn = %q
period = 3600
evaluation_periods = 25`, fakeLB)), `evaluation_periods: 25 periods of 3600 s make 90000 s`},
		{"alarm datapoints above periods", alarm(fmt.Sprintf(`preset = "elb_4xx_count"
load_balancer_arn = %q
datapoints_to_alarm = 3`, fakeLB)), `datapoints_to_alarm: 3 is outside 1 to evaluation_periods \(2\)`},
		{"alarm error rate above 100", alarm(fmt.Sprintf(`preset = "error_rate"
load_balancer_arn = %q
threshold = 150`, fakeLB)), `threshold: 150 is outside 0 to 100`},
		{"alarm negative count", alarm(fmt.Sprintf(`preset = "target_5xx_count"
load_balancer_arn = %q
threshold = -1`, fakeLB)), `threshold: -1 is negative`},
		{"alarm zero latency", alarm(fmt.Sprintf(`preset = "p99_latency"
load_balancer_arn = %q
threshold = 0`, fakeLB)), `threshold: 0 ms is not above 0`},
		{"alarm action not SNS", alarm(fmt.Sprintf(`preset = "elb_4xx_count"
load_balancer_arn = %q
alarm_actions = [%q]`, fakeLB, fakeLambda)), `Invalid ARN(.|\n)*alarm_actions`},
		{"alarm treat missing data", alarm(fmt.Sprintf(`preset = "elb_4xx_count"
load_balancer_arn = %q
treat_missing_data = "zero"`, fakeLB)), `treat_missing_data value must be one of`},
		{"alarm name with a newline", alarm(`preset = "custom"`, "bad\nname"), `name must not contain control characters`},
		{"custom without comparison", alarm(`preset = "custom"
threshold = 1
custom = { metric = { namespace = "App", name = "X", statistic = "Sum" } }`), `custom\.comparison_operator: a custom alarm needs a comparison operator`},
		{"custom with bad query id", alarm(`preset = "custom"
threshold = 1
custom = {
  comparison_operator = "GreaterThanThreshold"
  queries = [{ id = "Errors", expression = "1", return_data = true }]
}`), `custom\.queries\[0\]\.id: "Errors" must start with a lower-case letter`},
		{"custom with two results", alarm(`preset = "custom"
threshold = 1
custom = {
  comparison_operator = "GreaterThanThreshold"
  queries = [{ id = "a", expression = "1", return_data = true }, { id = "b", expression = "2", return_data = true }]
}`), `custom\.queries: 2 queries have return_data = true; exactly one must`},
		{"custom with eleven queries", alarm(`preset = "custom"
threshold = 1
custom = {
  comparison_operator = "GreaterThanThreshold"
  queries = [for i in range(11) : { id = "q${i}", expression = "1", return_data = i == 0 }]
}`), `11 queries; a metric-math alarm has at most 10`},
		{"custom percentile p999", alarm(`preset = "custom"
threshold = 1
custom = {
  comparison_operator = "GreaterThanThreshold"
  metric = { namespace = "App", name = "X", extended_statistic = "p999" }
}`), `"p999" is not a percentile`},
		{"alarm name of 256 characters", alarm(`preset = "custom"`, strings.Repeat("a", 256)), `name string length must be between 1 and 255, got: 256`},
		{"empty alarm description", alarm(fmt.Sprintf(`preset = "elb_4xx_count"
load_balancer_arn = %q
description = ""`, fakeLB)), `description string length must be between 1 and 1024`},
		{"empty tag key", alarm(fmt.Sprintf(`preset = "elb_4xx_count"
load_balancer_arn = %q
tags = { "" = "x" }`, fakeLB)), `tags(.|\n)*length must be between 1 and 128`},
		{"six alarm actions", alarm(fmt.Sprintf(`preset = "elb_4xx_count"
load_balancer_arn = %q
ok_actions = [for i in range(6) : "arn:aws:sns:us-east-1:123456789012:t${i}"]`, fakeLB)), `ok_actions set must contain at most 5 elements`},
		{"custom block on a preset", alarm(fmt.Sprintf(`preset = "elb_4xx_count"
load_balancer_arn = %q
custom = { comparison_operator = "GreaterThanThreshold" }`, fakeLB)), `custom: custom is only used with preset = "custom"`},
		{"custom with neither metric nor queries", alarm(`preset = "custom"
threshold = 1
custom = { comparison_operator = "GreaterThanThreshold" }`), `set custom\.metric \(one metric\) or custom\.queries`},
		{"custom with statistic and percentile", alarm(`preset = "custom"
threshold = 1
custom = {
  comparison_operator = "GreaterThanThreshold"
  metric = { namespace = "App", name = "X", statistic = "Sum", extended_statistic = "p99" }
}`), `set statistic or extended_statistic, not both`},
		{"custom query metric period of 7 s", alarm(`preset = "custom"
threshold = 1
custom = {
  comparison_operator = "GreaterThanThreshold"
  queries = [{ id = "a", return_data = true, metric = { namespace = "App", name = "X", stat = "Sum", period = 7 } }]
}`), `custom\.queries\[0\]\.metric\.period: 7 seconds is not 10, 30 or a multiple of 60`},
		{"custom math with a period", alarm(`preset = "custom"
threshold = 1
period = 60
custom = {
  comparison_operator = "GreaterThanThreshold"
  queries = [{ id = "a", expression = "1", return_data = true }]
}`), `period: a metric-math alarm sets the period of each metric`},
		{"custom without threshold", alarm(`preset = "custom"
custom = {
  comparison_operator = "GreaterThanThreshold"
  metric = { namespace = "App", name = "X", statistic = "Sum" }
}`), `threshold: a custom alarm needs a threshold`},
		{"low traffic threshold of 0", alarm(fmt.Sprintf(`preset = "low_traffic"
load_balancer_arn = %q
threshold = 0`, fakeLB)), `could never fire`},
		{"custom dimensions on 31 names", alarm(`preset = "custom"
threshold = 1
custom = {
  comparison_operator = "GreaterThanThreshold"
  metric = { namespace = "App", name = "X", statistic = "Sum", dimensions = { for i in range(31) : "d${i}" => "v" } }
}`), `dimensions map must contain at most 30 elements`},
		{"alarm state with no names", good + "data \"rollout_alarm_state\" \"x\" {\n names = []\n}\n", `names list must contain at least 1 elements`},
		{"alarm state with a name twice", good + "data \"rollout_alarm_state\" \"x\" {\n names = [\"a\", \"a\"]\n}\n", `Duplicate List Value`},
		{"target health of 21 groups", good + fmt.Sprintf("data \"rollout_target_health\" \"x\" {\n target_group_arns = [for i in range(21) : replace(%q, \"tg0\", \"tg${i}\")]\n}\n", fakeTG(0)), `target_group_arns list must contain at least 1 elements and at most 20 elements, got: 21`},
		{"bluegreen listener and rule", bg(fmt.Sprintf(`rule_arn = %q`, fakeRule)), `Invalid Attribute Combination`},
		{"bluegreen rule ARN of a target group", strings.Replace(bg(fmt.Sprintf(`rule_arn = %q`, fakeTG(0))), fmt.Sprintf("listener_arn = %q\n", fakeListener), "", 1), `Invalid ARN(.|\n)*rule_arn`},
		{"target health of a listener", good + fmt.Sprintf("data \"rollout_target_health\" \"x\" {\n target_group_arns = [%q]\n}\n", fakeListener), `Invalid ARN(.|\n)*target_group_arns`},
		// rollout_deployment_bluegreen.
		{"bluegreen name prefix with underscore", bg(`name_prefix = "web_app"`), `name_prefix must be 1 to 21 letters, digits and hyphens`},
		{"bluegreen name prefix too long", bg(`name_prefix = "a-very-long-prefix-xyz"`), `name_prefix must be 1 to 21`},
		{"bluegreen port 0", bg(`port = 0`), `port value must be between 1 and 65535, got: 0`},
		{"bluegreen protocol TCP", bg(`protocol = "TCP"`), `protocol value must be one of`},
		{"bluegreen vpc id", bg(`vpc_id = "vpc_123"`), `vpc_id must be a VPC id`},
		{"bluegreen lambda target type", bg(`target_type = "lambda"`), `target_type value must be one of`},
		{"bluegreen active purple", bg(`active = "purple"`), `active value must be one of`},
		{"bluegreen healthy threshold 1", bg(`health_check = { healthy_threshold = 1 }`), `healthy_threshold value must be between 2 and 10, got: 1`},
		{"bluegreen timeout not below interval", bg(`health_check = { interval = 10, timeout = 10 }`), `Health Check Timeout Too Long(.|\n)*timeout is 10 s and health_check.interval 10 s`},
		{"bluegreen health path without slash", bg(`health_check = { path = "health" }`), `path must start with /`},
		{"bluegreen matcher", bg(`health_check = { matcher = "ok" }`), `matcher must be HTTP codes`},
		{"bluegreen deregistration delay", bg(`deregistration_delay = 4000`), `deregistration_delay value must be between 0 and 3600`},
		{"bluegreen reserved tag", bg(`tags = { "rollout:color" = "red" }`), `tags(.|\n)*must be none of`},
		{"bluegreen test listener is the listener", bg(fmt.Sprintf(`test_listener_arn = %q`, fakeListener)), `Test Listener Is The Listener`},
		{"bluegreen test listener not a listener", bg(fmt.Sprintf(`test_listener_arn = %q`, fakeTG(0))), `Invalid ARN(.|\n)*test_listener_arn`},
		{"bluegreen canary without steps", bg(`rollout = { strategy = "canary" }`), `Missing Canary Steps`},
		// rollout_lambda_alias.
		{"alias $LATEST", alias(`version = "$LATEST"`), `Unpublished Version(.|\n)*AWS refuses \$LATEST in routing`},
		{"alias version zero", alias(`version = "0"`), `Invalid Function Version(.|\n)*version is "0"`},
		{"alias version not a number", alias(`version = "v2"`), `Invalid Function Version(.|\n)*"v2"`},
		{"alias version with a decimal", alias(`version = "1.5"`), `Invalid Function Version`},
		{"alias name all digits", alias(`alias_name = "42"`), `Invalid Alias Name(.|\n)*all digits`},
		{"alias name with a dot", alias(`alias_name = "prod.live"`), `Invalid Alias Name(.|\n)*1 to 128 of the characters`},
		{"alias name too long", alias(`alias_name = "` + strings.Repeat("a", 129) + `"`), `Invalid Alias Name`},
		{"function name with a space", alias(`function_name = "my orders"`), `function_name(.|\n)*must be a function name`},
		{"function ARN with a qualifier", alias(`function_name = "arn:aws:lambda:us-east-1:123456789012:function:orders:3"`), `function_name(.|\n)*without a qualifier`},
		{"function ARN of another service", alias(`function_name = "arn:aws:sqs:us-east-1:123456789012:orders"`), `function_name(.|\n)*must be a function name`},
		{"function name over 64", alias(`function_name = "` + strings.Repeat("f", 65) + `"`), `function_name(.|\n)*must be a function name`},
		{"alias description over 256", alias(`description = "` + strings.Repeat("d", 257) + `"`), `description string length must be at most 256`},
		{"alias on_destroy unknown", alias(`on_destroy = "delete"`), `on_destroy value must be one of`},
		{"alias health gate", alias(`rollout = { gates = { health = {} } }`), `No Health Gate For Functions(.|\n)*a Lambda function has no targets`},
		{"alias unknown preset", alias(`rollout = { preset = "canary_50_percent_1_minute" }`), `rollout\.preset value must be one of(.|\n)*canary_10_percent_5_minutes`},
		{"preset with steps", alias(`rollout = { preset = "canary_10_percent_5_minutes", strategy = "canary", steps = [{ percent = 100 }] }`), `Preset With Own Schedule(.|\n)*rollout\.(strategy|steps) is set too`},
		{"split preset with linear", withExtra(`rollout = { preset = "linear_10_percent_every_1_minute", linear = { step_percent = 20, interval = "1m" } }`), `Preset With Own Schedule(.|\n)*rollout\.linear is set too`},
		{"feature_flag rollback without flags", withExtra(`rollout = { rollback = "feature_flag" }`), `Missing Flags(.|\n)*names no flag to switch off`},
		{"kill_switch rollback on a split", withExtra(`rollout = { rollback = "kill_switch" }`), `Kill Switch Rollback For Flags Only`},
		{"rollout flag that is not a key", withExtra(`rollout = { rollback = "feature_flag", flags = ["New Checkout"] }`), `rollout\.flags(.|\n)*must be a flag key or a parameter name`},
		// rollout_feature_flag.
		{"flag key with capitals", ff(`key = "Checkout"`), `key(.|\n)*must be 1 to 128 of a-z 0-9 \. _ - starting with a letter`},
		{"flag key starting with a digit", ff(`key = "1checkout"`), `key(.|\n)*starting with a letter`},
		{"flag key over 128", ff(`key = "` + "k" + strings.Repeat("x", 128) + `"`), `key(.|\n)*1 to 128`},
		{"flag percentage above 100", ff(`rollout_percentage = 101`), `rollout_percentage value must be between 0 and 100, got: 101`},
		{"flag percentage negative", ff(`rollout_percentage = -5`), `rollout_percentage value must be between 0 and 100, got: -5`},
		{"flag unknown operator", ff(`targeting = { segment_rules = [{ attribute = "plan", operator = "matches", value = "p.*" }] }`), `targeting\.segment_rules\[0\]\.operator value must be one of`},
		{"flag empty rule attribute", ff(`targeting = { segment_rules = [{ attribute = "", operator = "equals", value = "x" }] }`), `segment_rules\[0\]\.attribute string length must be between 1 and 128`},
		{"flag no segment rules", ff(`targeting = { segment_rules = [] }`), `segment_rules list must contain at least 1 elements`},
		{"flag user included and excluded", ff(`targeting = { included_users = ["u1"], excluded_users = ["u1"] }`), `User Both Included And Excluded(.|\n)*"u1"`},
		{"flag duplicate included user", ff(`targeting = { included_users = ["u1", "u1"] }`), `Duplicate List Value`},
		{"flag expires_at not a time", ff(`expires_at = "next friday"`), `Invalid Time(.|\n)*expires_at is "next friday"`},
		{"flag depends on itself", ff(`dependencies = ["checkout"]`), `Flag Depends On Itself(.|\n)*checkout → checkout`},
		{"flag dependency not a key", ff(`dependencies = ["Bad Key"]`), `dependencies(.|\n)*must be a flag key`},
		{"flag path prefix without slashes", ff(`path_prefix = "flags"`), `path_prefix(.|\n)*must start and end with /`},
		{"flag duplicate environment", ff(`environments = ["prod", "prod"]`), `Duplicate List Value`},
		{"flag empty environment", ff(`environments = [""]`), `environments\[0\] string length must be between 1 and 64`},
		{"flag description over 1024", ff(`description = "` + strings.Repeat("d", 1025) + `"`), `description string length must be at most 1024`},
		{"flag data source bad key", good + "data \"rollout_feature_flag\" \"x\" {\n  key = \"Bad\"\n}\n", `key(.|\n)*starting with a letter`},
		{"api budget of zero", withProvider(`api_budget = { elb_describe_per_second = 0 }`), `api_budget\.elb_describe_per_second value must be between 0\.1`},
		{"api budget too high", withProvider(`api_budget = { cloudwatch_describe_per_second = 5000 }`), `api_budget\.cloudwatch_describe_per_second value must be between 0\.1\S* and 1000`},
		{"ssm endpoint plain http", withProvider(`endpoints = { ssm = "http://ssm.internal.example" }`), `Plain HTTP Endpoint(.|\n)*endpoints\.ssm`},
		{"status of two subjects", good + fmt.Sprintf("data \"rollout_status\" \"x\" {\n listener_arn = %q\n feature_flag = \"checkout\"\n}\n", fakeListener), `Invalid Attribute Combination(.|\n)*listener_arn`},
		{"status of nothing", good + "data \"rollout_status\" \"x\" {\n}\n", `Invalid Attribute Combination`},
		{"status flag key", good + "data \"rollout_status\" \"x\" {\n feature_flag = \"Checkout\"\n}\n", `feature_flag(.|\n)*must be a flag key or a parameter name`},
		{"status wait for a word", good + fmt.Sprintf("data \"rollout_status\" \"x\" {\n listener_arn = %q\n wait = { until = [\"done\"], timeout = \"1m\" }\n}\n", fakeListener), `wait\.until(.|\n)*value must be one of`},
		{"status wait too long", good + fmt.Sprintf("data \"rollout_status\" \"x\" {\n listener_arn = %q\n wait = { until = [\"held\"], timeout = \"24h\" }\n}\n", fakeListener), `Duration Out Of Range(.|\n)*wait\.timeout is 24h0m0s`},
		{"status alias name all digits", good + "data \"rollout_status\" \"x\" {\n lambda_alias = { function_name = \"orders\", alias_name = \"12\" }\n}\n", `alias_name`},
		{"data source with both", good + fmt.Sprintf("data \"rollout_listener_weights\" \"x\" {\n listener_arn = %q\n rule_arn = %q\n}\n", fakeListener, fakeRule), `Invalid Attribute Combination`},
	}
	// rollout_release: two services, and the body given.
	rel := func(services, body string) string {
		if services == "" {
			services = fmt.Sprintf("api = { listener_arn = %q, target_groups = %s }\n    web = { rule_arn = %q, target_groups = %s }", fakeListener, tgList(1, 1), fakeRule, tgList(1, 1))
		}
		return good + "resource \"rollout_release\" \"test\" {\n  services = {\n    " + services + "\n  }\n" + body + "\n}\n"
	}
	relDeps := func(deps string) string { return rel("", "dependencies = ["+deps+"]") }
	cases = append(cases, []struct{ name, config, want string }{
		{"release service controlled by two systems", rel(fmt.Sprintf("api = { listener_arn = %q, target_groups = %s, controlled_by = { ecs_service = %q, codedeploy_group = %q } }", fakeListener, tgList(1, 1), "arn:aws:ecs:us-east-1:123456789012:service/prod/web", "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:web/prod"), ""), `Invalid Controlled By(.|\n)*exactly one system`},
		{"release latency gate on a network load balancer", rel(fmt.Sprintf("api = { listener_arn = %q, target_groups = %s, rollout = { gates = { metrics = { max_p99_latency_ms = 200 } } } }", fakeNLB, tgList(1, 1)), ""), `No Latency On A Network Load Balancer`},
		{"release cycle", relDeps(`{ service = "api", depends_on = "web" }, { service = "web", depends_on = "api", type = "order_only" }`), `Dependency Cycle(.|\n)*form a cycle: api → web → api`},
		{"release unknown dependency", relDeps(`{ service = "web", depends_on = "db" }`), `Invalid Dependency(.|\n)*dependencies\[0\]\.depends_on: "db" is not a service of this release \(the services are api, web\)`},
		{"release unknown dependent", relDeps(`{ service = "wbe", depends_on = "api" }`), `Invalid Dependency(.|\n)*dependencies\[0\]\.service: "wbe" is not a service`},
		{"release service depends on itself", relDeps(`{ service = "web", depends_on = "web" }`), `Invalid Dependency(.|\n)*"web" depends on itself`},
		{"release same pair twice", relDeps(`{ service = "web", depends_on = "api" }, { service = "web", depends_on = "api", type = "soft" }`), `Invalid Dependency(.|\n)*web depends on api already at dependencies\[0\]`},
		{"release dependency type", relDeps(`{ service = "web", depends_on = "api", type = "weak" }`), `type value must be one of(.|\n)*"hard"`},
		{"release service name", rel(fmt.Sprintf("API = { listener_arn = %q, target_groups = %s }", fakeListener, tgList(1, 1)), ""), `must be 1 to 63 lower-case letters, digits, _ and -, starting with a letter`},
		{"release no services", good + "resource \"rollout_release\" \"test\" {\n  services = {}\n}\n", `services map must contain at least 1 elements`},
		{"release service with both ARNs", rel(fmt.Sprintf("api = { listener_arn = %q, rule_arn = %q, target_groups = %s }", fakeListener, fakeRule, tgList(1, 1)), ""), `Invalid Service(.|\n)*services\["api"\] sets both of listener_arn and rule_arn`},
		{"release service with neither ARN", rel(fmt.Sprintf("api = { target_groups = %s }", tgList(1, 1)), ""), `Invalid Service(.|\n)*sets neither of listener_arn and rule_arn`},
		{"release listener in two services", rel(fmt.Sprintf("api = { listener_arn = %q, target_groups = %s }\n    web = { listener_arn = %q, target_groups = %s }", fakeListener, tgList(1, 1), fakeListener, tgList(1, 1)), ""), `Listener In Two Services(.|\n)*services\["api"\] and services\["web"\] both own`},
		{"release service weights", rel(fmt.Sprintf("api = { listener_arn = %q, target_groups = %s }", fakeListener, tgList(0, 0)), ""), `No Traffic Would Be Served`},
		{"release service canary without steps", rel(fmt.Sprintf("api = { listener_arn = %q, target_groups = %s, rollout = { strategy = \"canary\" } }", fakeListener, tgList(1, 1)), ""), `Missing Canary Steps`},
		{"release service kill switch", rel(fmt.Sprintf("api = { listener_arn = %q, target_groups = %s, rollout = { rollback = \"kill_switch\" } }", fakeListener, tgList(1, 1)), ""), `Kill Switch Rollback For Flags Only`},
		{"release service hold", rel(fmt.Sprintf("api = { listener_arn = %q, target_groups = %s, rollout = { strategy = \"canary\", steps = [{ percent = 10, pause = \"hold\" }, { percent = 100 }] } }", fakeListener, tgList(1, 1)), ""), `Hold In A Release(.|\n)*steps\[0\] holds`},
		{"release strategy", rel("", `strategy = "rolling"`), `strategy value must be one of(.|\n)*"sequential"`},
		{"release max_parallel zero", rel("", `max_parallel = 0`), `max_parallel value must be between 1 and 50, got: 0`},
		{"release max_parallel with sequential", rel("", "strategy = \"sequential\"\nmax_parallel = 3"), `Max Parallel With Sequential(.|\n)*moves one service at a time`},
		{"release validation without stabilization", relDeps(`{ service = "web", depends_on = "api", validation_required = true }`), `Validation Without Stabilization(.|\n)*no stabilization block to validate api with`},
		{"release rollback started without stop", rel("", `on_failure = { stop = false, rollback = "started" }`), `Rollback Of Started Services Needs Stop`},
		{"release on_failure rollback value", rel("", `on_failure = { rollback = "all" }`), `on_failure\.rollback value must be one of(.|\n)*"started"`},
		{"release stabilization too long", rel("", `stabilization = { duration = "2h" }`), `stabilization\.duration(.|\n)*1h0m0s`},
		{"release stabilization checks nothing", rel("", `stabilization = { duration = "0s" }`), `Empty Stabilization(.|\n)*would check nothing`},
		{"release stabilization poll too fast", rel("", `stabilization = { duration = "1m", poll_interval = "1ms" }`), `stabilization\.poll_interval`},
		{"release gateway load balancer listener", rel(fmt.Sprintf("api = { listener_arn = %q, target_groups = %s }", strings.Replace(fakeNLB, "/net/", "/gwy/", 1), tgList(1, 1)), ""), `listener_arn(.|\n)*Gateway Load Balancer`},
	}...)
	users := func(n, size int) string {
		var us []string
		for i := 0; i < n; i++ {
			us = append(us, fmt.Sprintf("%q", fmt.Sprintf("user-%0*d", size-5, i)))
		}
		return "[" + strings.Join(us, ", ") + "]"
	}
	cases = append(cases, []struct{ name, config, want string }{
		{"flag tier", ff(`tier = "Premium"`), `tier value must be one of(.|\n)*"Advanced"`},
		{"flag under the reserved aws prefix", ff(`path_prefix = "/aws/flags/"`), `Reserved Parameter Name(.|\n)*begins with "aws"`},
		{"flag under the reserved ssm prefix", ff(`path_prefix = "/SSMstuff/"`), `Reserved Parameter Name(.|\n)*"ssm"`},
		{"flag too deep", ff(`path_prefix = "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/"`), `Reserved Parameter Name(.|\n)*16 levels deep`},
		{"flag document over the standard tier", ff("targeting = { included_users = " + users(200, 24) + " }"), `Flag Document Too Large(.|\n)*Standard tier's limit of 4096 bytes(.|\n)*tier = "Advanced"`},
		{"flag document over the advanced tier", ff("tier = \"Advanced\"\ntargeting = { included_users = " + users(350, 24) + " }"), `Flag Document Too Large(.|\n)*Advanced tier's limit of 8192 bytes`},
	}...)
	// Detached rollouts (issue 20): rollout.execution, rollout_orchestrator,
	// rollout_orchestrator_policy.
	const fakeSM = "arn:aws:states:us-east-1:123456789012:stateMachine:rollouts"
	orch := func(override string) string {
		attrs := map[string]string{"name": `"rollouts"`, "function_role_arn": `"arn:aws:iam::123456789012:role/fn"`, "states_role_arn": `"arn:aws:iam::123456789012:role/sfn"`,
			"code": `{ file = "orchestrator.zip" }`}
		key := strings.TrimSpace(strings.SplitN(override, "=", 2)[0])
		var lines []string
		for _, k := range []string{"name", "function_role_arn", "states_role_arn", "code"} {
			if k != key {
				lines = append(lines, k+" = "+attrs[k])
			}
		}
		return good + "resource \"rollout_orchestrator\" \"test\" {\n" + strings.Join(lines, "\n") + "\n" + override + "\n}\n"
	}
	policy := func(body string) string {
		return good + "data \"rollout_orchestrator_policy\" \"x\" {\n  name = \"rollouts\"\n" + body + "\n}\n"
	}
	cases = append(cases, []struct{ name, config, want string }{
		{"execution mode unknown", withExtra(`rollout = { execution = { mode = "background" } }`), `rollout\.execution\.mode value must be one of(.|\n)*"detached"`},
		{"detached without orchestrator", withExtra(`rollout = { execution = { mode = "detached" } }`), `Missing Orchestrator(.|\n)*rollout\.execution\.orchestrator is not set`},
		{"orchestrator without detached", withExtra(fmt.Sprintf(`rollout = { execution = { orchestrator = %q } }`, fakeSM)), `Orchestrator Without Detached Mode(.|\n)*mode is "in_apply"`},
		{"execution timeout without detached", withExtra(`rollout = { execution = { mode = "in_apply", timeout = "1h" } }`), `Timeout Without Detached Mode`},
		{"orchestrator that is a function", withExtra(fmt.Sprintf(`rollout = { execution = { mode = "detached", orchestrator = %q } }`, fakeLambda)), `Invalid ARN(.|\n)*rollout\.execution\.orchestrator(.|\n)*service "lambda"`},
		{"execution timeout of 30 s", withExtra(fmt.Sprintf(`rollout = { execution = { mode = "detached", orchestrator = %q, timeout = "30s" } }`, fakeSM)), `Duration Out Of Range(.|\n)*rollout\.execution\.timeout is 30s(.|\n)*from 1m0s`},
		{"execution timeout not a duration", withExtra(fmt.Sprintf(`rollout = { execution = { mode = "detached", orchestrator = %q, timeout = "a day" } }`, fakeSM)), `Invalid Duration(.|\n)*rollout\.execution\.timeout is "a day"`},
		{"detached release service", rel(fmt.Sprintf("api = { listener_arn = %q, target_groups = %s, rollout = { execution = { mode = \"detached\", orchestrator = %q } } }", fakeListener, tgList(1, 1), fakeSM), ""),
			`Detached Rollout Not Possible Here(.|\n)*services\["api"\]\.rollout\.execution\.mode(.|\n)*A release runs its services in the apply`},
		{"detached flip with a test listener", bg(fmt.Sprintf("test_listener_arn = %q\nrollout = { execution = { mode = \"detached\", orchestrator = %q } }", strings.Replace(fakeListener, "f2f7dc8efc522ab2", "a2f7dc8efc522ab2", 1), fakeSM)),
			`Detached Rollout Not Possible Here(.|\n)*test listener`},
		{"orchestrator name with a dot", orch(`name = "roll.outs"`), `name must be 1 to 64 letters, digits, hyphens and underscores`},
		{"orchestrator role that is a user", orch(`function_role_arn = "arn:aws:iam::123456789012:user/fn"`), `Invalid ARN(.|\n)*function_role_arn(.|\n)*"role/"`},
		{"orchestrator states role not an ARN", orch(`states_role_arn = "sfn-role"`), `Invalid ARN(.|\n)*states_role_arn`},
		{"orchestrator architecture", orch(`architecture = "riscv64"`), `architecture value must be one of(.|\n)*"arm64"`},
		{"orchestrator code file and S3", orch(`code = { file = "o.zip", s3_bucket = "b", s3_key = "k" }`), `Conflicting Orchestrator Code(.|\n)*both a file and an S3 object`},
		{"orchestrator code nowhere", orch(`code = {}`), `Missing Orchestrator Code`},
		{"orchestrator S3 key without bucket", orch(`code = { s3_key = "k" }`), `Incomplete S3 Location(.|\n)*code\.s3_key`},
		{"orchestrator timeout of 5 s", orch(`timeout = "5s"`), `Duration Out Of Range(.|\n)*timeout is 5s(.|\n)*from 10s to 15m0s`},
		{"orchestrator memory 64", orch(`memory_size = 64`), `memory_size value must be between 128 and 10240, got: 64`},
		{"orchestrator zip missing", orch(`code = { file = "/nonexistent/orchestrator.zip" }`), `Cannot Read Orchestrator Code(.|\n)*code\.file`},
		{"policy listener that is a target group", policy(fmt.Sprintf(`listener_arns = [%q]`, fakeTG(0))), `listener_arns(.|\n)*must be an ARN such as arn:aws:elasticloadbalancing`},
		{"policy function of another service", policy(`function_arns = ["arn:aws:sqs:us-east-1:123456789012:q"]`), `function_arns(.|\n)*must be an ARN such as arn:aws:lambda`},
		{"policy parameter ARN", policy(`parameter_arns = ["/rollout/flags/checkout"]`), `parameter_arns(.|\n)*must be an ARN such as arn:aws:ssm`},
		{"policy one role of two", policy(`function_role_arn = "arn:aws:iam::123456789012:role/fn"`), `One Role Of Two(.|\n)*states_role_arn`},
		{"policy name with a space", good + "data \"rollout_orchestrator_policy\" \"x\" {\n  name = \"my rollouts\"\n}\n", `name must be 1 to 64 letters`},
		{"stepfunctions endpoint plain http", withProvider(`endpoints = { stepfunctions = "http://states.internal.example" }`), `Plain HTTP Endpoint(.|\n)*endpoints\.stepfunctions`},
	}...)
	runBadInput(t, e, good, cases)
	t.Cleanup(func() {
		if n := e.Emu.Total("elasticloadbalancing:") + e.Emu.Total("monitoring:") + e.Emu.Total("lambda:") + e.Emu.Total("ssm:"); n != 0 {
			t.Errorf("bad input reached AWS: the emulator saw %v", e.Emu.Counts())
		}
	})
}

// runBadInput plans the cases together, as few plans as the engine allows:
// a plan reports every resource's problems at once, so the resources of all
// cases share one plan (each renamed after its case), and the provider
// blocks share one through aliases. A plan stops before ModifyPlan when any
// resource fails validation, so the cases whose error is not found run
// again together, and then alone. Each case's error must be attributed to
// its own resource or provider.
func runBadInput(t *testing.T, e *acctest.Env, good string, cases []struct{ name, config, want string }) {
	resHeader := regexp.MustCompile(`(?m)^(resource|data) ("[a-z_]+") "(test|x)"`)
	type prepared struct {
		name, body, want string
		// at are the ways an engine names the case's resource or provider
		// in a diagnostic ("with rollout_x.c3," or `in resource "…" "c3"`).
		at       []string
		provider bool
	}
	var all []prepared
	var alone []int
	for i, c := range cases {
		switch {
		case strings.HasPrefix(c.config, good) && !strings.Contains(c.config[len(good):], `provider "rollout"`):
			body := resHeader.ReplaceAllString(c.config[len(good):], fmt.Sprintf(`$1 $2 "c%d"`, i))
			all = append(all, prepared{name: c.name, body: body, at: []string{fmt.Sprintf(".c%d,", i), fmt.Sprintf(`"c%d":`, i)}, want: c.want})
		case strings.HasPrefix(c.config, "provider \"rollout\" {\n") && strings.Count(c.config, "provider \"rollout\"") == 1 && !strings.Contains(c.config, "terraform_data"):
			body := strings.Replace(c.config, "provider \"rollout\" {\n", fmt.Sprintf("provider \"rollout\" {\n  alias = \"p%d\"\n", i), 1)
			body = resHeader.ReplaceAllString(body, fmt.Sprintf(`$1 $2 "c%d"`, i))
			body = strings.Replace(body, fmt.Sprintf(`"c%d" {`, i), fmt.Sprintf(`"c%d" {`+"\n  provider = rollout.p%d", i, i), 1)
			all = append(all, prepared{name: c.name, body: body, at: []string{fmt.Sprintf(".p%d,", i), fmt.Sprintf(".p%d\"", i), fmt.Sprintf(`"c%d":`, i)}, want: c.want, provider: true})
		default:
			alone = append(alone, i)
		}
	}
	found := func(out string, p prepared) bool {
		re := regexp.MustCompile(strings.ReplaceAll(p.want, " ", `\s+`))
		for _, d := range acctest.Diagnostics(out) {
			for _, at := range p.at {
				if strings.Contains(d.Text, at) && re.MatchString("Error: "+d.Summary+"\n"+d.Text) {
					return true
				}
			}
		}
		return false
	}
	plans := 0
	pending := all
	for pass := 1; pass <= 2 && len(pending) > 0; pass++ {
		var b strings.Builder
		b.WriteString(good)
		for _, p := range pending {
			b.WriteString(p.body)
		}
		out := e.PlanErrors(t, b.String())
		plans++
		var missing []prepared
		for _, p := range pending {
			if !found(out, p) {
				missing = append(missing, p)
			}
		}
		pending = missing
	}
	for _, p := range pending {
		plans++
		if out := e.PlanErrors(t, good+p.body); !found(out, p) {
			t.Errorf("%s: no error matching %q on %s in:\n%s", p.name, p.want, p.at[0], out)
		}
	}
	for _, i := range alone {
		c := cases[i]
		plans++
		re := regexp.MustCompile(strings.ReplaceAll(c.want, " ", `\s+`))
		if out := e.PlanErrors(t, c.config); !re.MatchString(out) {
			t.Errorf("%s: no error matching %q in:\n%s", c.name, c.want, out)
		}
	}
	t.Logf("%d bad inputs refused in %d plans", len(cases), plans)
}

// A hold_timeout that is not a duration, or out of range, gets its
// validator's error alone: not also "Hold Timeout Shorter Than Poll
// Interval", reading it as 0s.
func TestAccBadInput_holdTimeoutOneError(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	config := e.ProviderConfig()
	values := []string{"abc", "1d", "9999999h", "0s", "-5m"}
	for i, v := range values {
		config += fmt.Sprintf(`resource "rollout_traffic_split" "c%d" {
  listener_arn  = %q
  target_groups = %s
  rollout = { strategy = "canary", steps = [{ percent = 10, pause = "hold" }, { percent = 100 }], poll_interval = "1m", hold_timeout = %q }
}
`, i, fakeListener, tgList(1, 1), v)
	}
	ds := acctest.Diagnostics(e.PlanErrors(t, config))
	var got []string
	for _, d := range ds {
		got = append(got, d.Summary)
	}
	if len(ds) != len(values) || strings.Contains(strings.Join(got, "|"), "Shorter Than Poll Interval") {
		t.Errorf("want one Invalid Duration or Duration Out Of Range error for each of %v, got %q", values, got)
	}
}
