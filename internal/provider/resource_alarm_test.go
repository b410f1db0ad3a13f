package provider_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
)

// received returns the last PutMetricAlarm the emulator received for an
// alarm, as the provider sent it (before the emulator's alarm layer).
func received(e *acctest.Env, name string) map[string]any {
	reqs := e.Emu.Requests("monitoring:PutMetricAlarm")
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i]["AlarmName"] == name {
			return reqs[i]
		}
	}
	return nil
}

// normalize turns a decoded CBOR request into plain JSON types, so that
// numbers compare as float64 whatever their CBOR encoding.
func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// checkReceived compares the fields of the last PutMetricAlarm with want
// (JSON); fields in absent must not be there at all.
func checkReceived(e *acctest.Env, name, want string, absent ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got := received(e, name)
		if got == nil {
			return fmt.Errorf("the emulator received no PutMetricAlarm for %s", name)
		}
		var w map[string]any
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			return err
		}
		g := normalize(got).(map[string]any)
		for k, v := range w {
			if !reflect.DeepEqual(g[k], v) {
				gj, _ := json.Marshal(g[k])
				wj, _ := json.Marshal(v)
				return fmt.Errorf("PutMetricAlarm %s: %s is %s, want %s", name, k, gj, wj)
			}
		}
		for _, k := range absent {
			if _, ok := g[k]; ok {
				return fmt.Errorf("PutMetricAlarm %s: %s is set (%v); AWS expects it absent", name, k, g[k])
			}
		}
		return nil
	}
}

func dimsJSON(lb, tg string) string {
	lbDim, _ := arn.LoadBalancerDimension(lb)
	if tg == "" {
		return fmt.Sprintf(`[{"Name":"LoadBalancer","Value":%q}]`, lbDim)
	}
	tgDim, _ := arn.TargetGroupDimension(tg)
	return fmt.Sprintf(`[{"Name":"LoadBalancer","Value":%q},{"Name":"TargetGroup","Value":%q}]`, lbDim, tgDim)
}

// Each preset creates the alarm AWS expects (asserted on what the emulator
// received), reads back unchanged, and imports by name.
func TestAccAlarm_presets(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(1)
	lb, tg := f.LB, f.TGs[0]
	both, lbOnly := dimsJSON(lb, tg), dimsJSON(lb, "")
	math := fmt.Sprintf(`[
		{"Id":"errors","MetricStat":{"Metric":{"Namespace":"AWS/ApplicationELB","MetricName":"HTTPCode_Target_5XX_Count","Dimensions":%[1]s},"Period":60,"Stat":"Sum"},"ReturnData":false},
		{"Id":"requests","MetricStat":{"Metric":{"Namespace":"AWS/ApplicationELB","MetricName":"RequestCount","Dimensions":%[1]s},"Period":60,"Stat":"Sum"},"ReturnData":false},
		{"Id":"error_rate","Expression":"100 * errors / requests","Label":"5XX error rate (%%)","ReturnData":true}]`, both)
	cases := []struct {
		preset, attrs, want string
		absent              []string
	}{
		{"error_rate", fmt.Sprintf("target_group_arn = %q", tg),
			`{"Metrics":` + math + `,"Threshold":0.1,"ComparisonOperator":"GreaterThanThreshold","EvaluationPeriods":1,"DatapointsToAlarm":1,"TreatMissingData":"notBreaching"}`,
			[]string{"MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period"}},
		{"target_5xx_count", fmt.Sprintf("target_group_arn = %q", tg),
			`{"Namespace":"AWS/ApplicationELB","MetricName":"HTTPCode_Target_5XX_Count","Statistic":"Sum","Dimensions":` + both + `,"Period":60,"Threshold":10,"ComparisonOperator":"GreaterThanThreshold","EvaluationPeriods":1}`,
			[]string{"Metrics", "ExtendedStatistic"}},
		{"elb_4xx_count", "",
			`{"Namespace":"AWS/ApplicationELB","MetricName":"HTTPCode_ELB_4XX_Count","Statistic":"Sum","Dimensions":` + lbOnly + `,"Period":300,"EvaluationPeriods":2,"DatapointsToAlarm":2,"Threshold":10,"ComparisonOperator":"GreaterThanThreshold"}`,
			[]string{"Metrics", "ExtendedStatistic"}},
		{"p99_latency", fmt.Sprintf("target_group_arn = %q\n  threshold = 250", tg),
			`{"Namespace":"AWS/ApplicationELB","MetricName":"TargetResponseTime","ExtendedStatistic":"p99","Dimensions":` + both + `,"Period":60,"Threshold":0.25,"ComparisonOperator":"GreaterThanThreshold"}`,
			[]string{"Statistic", "Metrics"}},
		{"unhealthy_hosts", fmt.Sprintf("target_group_arn = %q", tg),
			`{"Namespace":"AWS/ApplicationELB","MetricName":"UnHealthyHostCount","Statistic":"Maximum","Dimensions":` + both + `,"Threshold":0,"ComparisonOperator":"GreaterThanThreshold"}`,
			[]string{"ExtendedStatistic"}},
		{"low_traffic", fmt.Sprintf("target_group_arn = %q\n  threshold = 500", tg),
			`{"Namespace":"AWS/ApplicationELB","MetricName":"RequestCount","Statistic":"Sum","Dimensions":` + both + `,"Period":300,"Threshold":500,"ComparisonOperator":"LessThanThreshold","TreatMissingData":"breaching"}`,
			nil},
	}
	for _, c := range cases {
		t.Run(c.preset, func(t *testing.T) {
			t.Parallel()
			name := acctest.Name("alarm-" + c.preset)
			cfg := e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_alarm" "test" {
  name              = %q
  preset            = %q
  load_balancer_arn = %q
  %s
}
`, name, c.preset, lb, c.attrs)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: e.Factories(),
				Steps: []resource.TestStep{
					{
						Config: cfg,
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
							// The preset's defaults are in the plan, not "known after apply".
							plancheck.ExpectKnownValue("rollout_alarm.test", tfjsonpath.New("evaluation_periods"), knownvalue.NotNull()),
							plancheck.ExpectKnownValue("rollout_alarm.test", tfjsonpath.New("treat_missing_data"), knownvalue.NotNull()),
						}},
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue("rollout_alarm.test", tfjsonpath.New("arn"), knownvalue.StringRegexp(regexpMust(`^arn:aws:cloudwatch:us-east-1:\d+:alarm:`+name+`$`))),
						},
						Check: checkReceived(e, name, c.want, c.absent...),
					},
					{ResourceName: "rollout_alarm.test", ImportState: true, ImportStateId: name, ImportStateVerify: true, ImportStateVerifyIdentifierAttribute: "name"},
				},
			})
		})
	}
}

// A custom metric-math alarm and a custom percentile alarm.
func TestAccAlarm_custom(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	e := acctest.NewEnv(t)
	mathName, pctName := acctest.Name("custom-math"), acctest.Name("custom-pct")
	cfg := e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_alarm" "math" {
  name      = %q
  preset    = "custom"
  threshold = 2
  custom = {
    comparison_operator = "GreaterThanOrEqualToThreshold"
    queries = [
      { id = "fails", metric = { namespace = "Shop", name = "CheckoutFailed", stat = "Sum", period = 60, dimensions = { Env = "prod" } } },
      { id = "total", metric = { namespace = "Shop", name = "CheckoutStarted", stat = "Sum", period = 60, dimensions = { Env = "prod" } } },
      { id = "rate", expression = "100 * fails / total", label = "checkout failure %%", return_data = true },
    ]
  }
}

resource "rollout_alarm" "pct" {
  name      = %q
  preset    = "custom"
  threshold = 1.5
  period    = 300
  custom = {
    comparison_operator = "GreaterThanThreshold"
    metric              = { namespace = "Shop", name = "Latency", extended_statistic = "p99.9", dimensions = { Env = "prod" } }
  }
}
`, mathName, pctName)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeTestCheckFunc(
					checkReceived(e, mathName, `{"Metrics":[
						{"Id":"fails","MetricStat":{"Metric":{"Namespace":"Shop","MetricName":"CheckoutFailed","Dimensions":[{"Name":"Env","Value":"prod"}]},"Period":60,"Stat":"Sum"},"ReturnData":false},
						{"Id":"total","MetricStat":{"Metric":{"Namespace":"Shop","MetricName":"CheckoutStarted","Dimensions":[{"Name":"Env","Value":"prod"}]},"Period":60,"Stat":"Sum"},"ReturnData":false},
						{"Id":"rate","Expression":"100 * fails / total","Label":"checkout failure %","ReturnData":true}],
						"Threshold":2,"ComparisonOperator":"GreaterThanOrEqualToThreshold"}`, "MetricName", "Period", "Statistic"),
					checkReceived(e, pctName, `{"Namespace":"Shop","MetricName":"Latency","ExtendedStatistic":"p99.9","Period":300,"Threshold":1.5,"Dimensions":[{"Name":"Env","Value":"prod"}]}`, "Statistic"),
				),
			},
			{ResourceName: "rollout_alarm.math", ImportState: true, ImportStateId: mathName, ImportStateVerify: true, ImportStateVerifyIdentifierAttribute: "name"},
			{ResourceName: "rollout_alarm.pct", ImportState: true, ImportStateId: pctName, ImportStateVerify: true, ImportStateVerifyIdentifierAttribute: "name"},
		},
	})
}

// Update in place, tags and actions; `state` follows SetAlarmState after a
// refresh; deleting removes the alarm.
func TestAccAlarm_lifecycle(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(1)
	name := acctest.Name("life")
	topic := "arn:aws:sns:us-east-1:000000000000:oncall"
	cfg := func(extra string) string {
		return e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_alarm" "test" {
  name              = %q
  preset            = "target_5xx_count"
  load_balancer_arn = %q
  target_group_arn  = %q
  alarm_actions     = [%q]
  description       = "5XX answers of the green target group"
  %s
}
`, name, f.LB, f.TGs[0], topic, extra)
	}
	stateIs := func(s string) statecheck.StateCheck {
		return statecheck.ExpectKnownValue("rollout_alarm.test", tfjsonpath.New("state"), knownvalue.StringExact(s))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		CheckDestroy: func(*terraform.State) error {
			if out := e.AlarmNames(name); len(out) != 0 {
				return fmt.Errorf("alarm %s still exists after destroy", name)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cfg(`threshold = 5
  tags = { team = "web", tier = "edge" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("rollout_alarm.test", tfjsonpath.New("threshold"), knownvalue.Float64Exact(5)),
					statecheck.ExpectKnownValue("rollout_alarm.test", tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("web"), "tier": knownvalue.StringExact("edge")})),
				},
				Check: checkReceived(e, name, fmt.Sprintf(`{"Threshold":5,"AlarmActions":[%q],"AlarmDescription":"5XX answers of the green target group"}`, topic)),
			},
			{
				Config: cfg(`threshold = 20
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  tags = { team = "payments" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("rollout_alarm.test", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("rollout_alarm.test", tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("payments")})),
				},
				Check: checkReceived(e, name, `{"Threshold":20,"EvaluationPeriods":3,"DatapointsToAlarm":2}`),
			},
			{
				PreConfig:    func() { e.SetAlarmState(name, cwtypes.StateValueAlarm) },
				RefreshState: true,
				Check:        resource.TestCheckResourceAttr("rollout_alarm.test", "state", "ALARM"),
			},
			{
				PreConfig: func() { e.SetAlarmState(name, cwtypes.StateValueOk) },
				Config: cfg(`threshold = 20
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  tags = { team = "payments" }`),
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("rollout_alarm.test", plancheck.ResourceActionNoop)}},
				ConfigStateChecks: []statecheck.StateCheck{stateIs("OK")},
			},
		},
	})
}

// A rollout_alarm's name goes straight into a traffic split's alarms gate:
// the canary passes while the alarm is quiet and rolls back once it fires.
func TestAccAlarm_gatesATrafficSplit(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newRolloutFixture(t)
	alarm := acctest.Name("green-5xx")
	cfg := func(blue, green int) string {
		return strings.Replace(f.config(blue, green, canarySteps+"\n    gates = { alarms = [rollout_alarm.green_5xx.name] }"), `resource "rollout_traffic_split"`, fmt.Sprintf(`
resource "rollout_alarm" "green_5xx" {
  name              = %q
  preset            = "error_rate"
  load_balancer_arn = %q
  target_group_arn  = %q
}

resource "rollout_traffic_split"`, alarm, f.lb, f.green), 1)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: cfg(100, 0)},
			// INSUFFICIENT_DATA (a new alarm) passes the gate.
			{Config: cfg(50, 50), Check: checkEmulator(f.e, f.ref, weightsOf(f, 50, 50))},
			{
				PreConfig: func() {
					if names := f.e.AlarmNames(alarm); len(names) != 1 {
						t.Fatalf("alarms named %s: %v", alarm, names)
					}
					f.e.SetAlarmState(alarm, cwtypes.StateValueAlarm)
				},
				Config:      cfg(0, 100),
				ExpectError: errRE(`Rollout Rolled Back(.|\n)*failed the alarms gate: alarm "` + alarm + `" is in ALARM`),
			},
		},
	})
}
