package awsclient_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryCallIsInThePermissionsTable keeps the provider page's IAM table
// honest: every AWS operation this package calls must be listed there, so a
// new call cannot ship without the permission users must grant for it.
func TestEveryCallIsInThePermissionsTable(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "templates", "index.md.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	call := regexp.MustCompile(`\.(ELB|CloudWatch|Lambda|SSM|States|SNS|Events)\.([A-Z][A-Za-z]+)\(`)
	paginator := regexp.MustCompile(`(cloudwatch|elb|lambda|ssm)\.New([A-Z][A-Za-z]+)Paginator\(`)
	service := map[string]string{"ELB": "elasticloadbalancing", "elb": "elasticloadbalancing", "CloudWatch": "cloudwatch", "cloudwatch": "cloudwatch", "Lambda": "lambda", "lambda": "lambda", "SSM": "ssm", "ssm": "ssm", "States": "states", "SNS": "sns", "Events": "events"}
	// The IAM action of an SDK operation, where the names differ.
	action := map[string]string{"lambda:Invoke": "lambda:InvokeFunction"}

	want := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range []*regexp.Regexp{call, paginator} {
			for _, m := range re.FindAllStringSubmatch(string(src), -1) {
				a := service[m[1]] + ":" + m[2]
				if iam, ok := action[a]; ok {
					a = iam
				}
				want[a] = true
			}
		}
	}
	if len(want) < 20 {
		t.Fatalf("found only %d AWS operations in the package (%v): the patterns no longer match the code", len(want), want)
	}
	for a := range want {
		if !strings.Contains(string(doc), "`"+a+"`") {
			t.Errorf("%s is called by internal/awsclient but missing from the Permissions table in templates/index.md.tmpl", a)
		}
	}
}
